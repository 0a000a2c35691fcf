import type { LimitFunction } from 'p-limit';
import { parseManifest } from '../core/manifest.js';
import { decodeDoc, eventDocSchema, fileListSchema, keys, numberDocSchema, parseModelKey, removedDocSchema, stageDocSchema, tagDocSchema, type RemovedDoc } from '../core/remote-layout.js';
import type { ObjectInfo, Remote } from '../remote/remote.js';
import type { DigestSet } from '../core/digest-set.js';

/**
 * The mark side of remote gc (docs/design.md §16): what the remote's references are, read
 * from the remote itself, and which chunks, file lists and manifests they need. Read-only.
 */

/** One model's references on the remote. */
export interface ModelRefs {
  model: string;
  /** number → version id (every number document, removed versions included). */
  numbers: Map<number, string>;
  /** number → tombstone. */
  removed: Map<number, RemovedDoc>;
  /** number → the tombstone's listing (its write time by the store's clock). */
  removedListed: Map<number, ObjectInfo>;
  /** Keys of the model's event documents, as listed (none read). */
  eventKeys: Set<string>;
  /** Versions a `remove` event names (events read only with `events`). */
  removeEvents: Set<string>;
  /** tag → version id. */
  tags: Map<string, string>;
  /** stage → version id. */
  stages: Map<string, string>;
  /** version id → stages it held at any time (stage documents' previous holders and stage events). */
  everHeld: Map<string, Set<string>>;
}

/** What a version's manifest says gc needs to know. */
export interface ManifestFacts {
  model: string;
  created: string;
  /** Chunks of single-chunk files. */
  chunks: string[];
  /** File digests of multi-chunk files (their lists name the chunks). */
  lists: string[];
}

/** Lists every model's numbers, tags, stages, events and tombstones, and reads those documents (events only with `events`). */
export async function readModelRefs(remote: Remote, limit: LimitFunction, opts: { events: boolean; known?: Map<string, ModelRefs> }): Promise<Map<string, ModelRefs>> {
  const byModel = new Map<string, ModelRefs>();
  const reads: Promise<void>[] = [];
  const refsOf = (model: string): ModelRefs => {
    let r = byModel.get(model);
    if (!r) {
      r = { model, numbers: new Map(), removed: new Map(), removedListed: new Map(), eventKeys: new Set(), removeEvents: new Set(), tags: new Map(), stages: new Map(), everHeld: new Map() };
      byModel.set(model, r);
    }
    return r;
  };
  const held = (r: ModelRefs, id: string | null, stage: string) => {
    if (!id) return;
    const s = r.everHeld.get(id) ?? new Set<string>();
    s.add(stage);
    r.everHeld.set(id, s);
  };
  for await (const o of remote.list('models/')) {
    const k = parseModelKey(o.key);
    if (!k) continue;
    const r = refsOf(k.model);
    const read = (fn: (body: Buffer) => void) =>
      reads.push(
        limit(async () => {
          const got = await remote.get(o.key);
          if (got) fn(got.body);
        }),
      );
    if (k.kind === 'numbers') {
      const n = Number(k.name);
      const known = opts.known?.get(k.model)?.numbers.get(n);
      // Number documents never change: one read at the mark is enough for the re-check.
      if (known) r.numbers.set(n, known);
      else read((b) => r.numbers.set(n, decodeDoc(numberDocSchema, b, o.key).version));
    } else if (k.kind === 'removed') {
      read((b) => {
        const doc = decodeDoc(removedDocSchema, b, o.key);
        r.removed.set(doc.number, doc);
        r.removedListed.set(doc.number, o);
      });
    } else if (k.kind === 'tags') {
      read((b) => r.tags.set(k.name, decodeDoc(tagDocSchema, b, o.key).version));
    } else if (k.kind === 'stages') {
      read((b) => {
        const doc = decodeDoc(stageDocSchema, b, o.key);
        r.stages.set(k.name, doc.version);
        held(r, doc.version, k.name);
        held(r, doc.previous, k.name);
      });
    } else if (k.kind === 'events') r.eventKeys.add(o.key);
    if (k.kind === 'events' && opts.events) {
      read((b) => {
        const e = decodeDoc(eventDocSchema, b, o.key);
        const stage = e.data.stage;
        if ((e.action === 'promote' || e.action === 'rollback') && typeof stage === 'string') held(r, e.version, stage);
        if (e.action === 'remove' && e.version) r.removeEvents.add(e.version);
      });
    }
  }
  await Promise.all(reads);
  return byModel;
}

/** Every object under `prefix`, by the name after it. */
export async function listByName(remote: Remote, prefix: string, suffix = ''): Promise<Map<string, ObjectInfo>> {
  const out = new Map<string, ObjectInfo>();
  for await (const o of remote.list(prefix)) {
    const name = o.key.slice(prefix.length);
    if (suffix && !name.endsWith(suffix)) continue;
    out.set(suffix ? name.slice(0, -suffix.length) : name, o);
  }
  return out;
}

/** Reads and checks one manifest; null when it is absent. */
export async function readManifestFacts(remote: Remote, id: string): Promise<ManifestFacts | null> {
  const got = await remote.get(keys.version(id));
  if (!got) return null;
  const m = parseManifest(got.body, id);
  const facts: ManifestFacts = { model: m.model, created: m.created, chunks: [], lists: [] };
  for (const f of m.files) {
    if (f.size === 0) continue;
    if (f.chunk) facts.chunks.push(f.chunk);
    else facts.lists.push(f.digest);
  }
  return facts;
}

/**
 * Adds to `chunks` every chunk the file lists `digests` name (and the digests to `lists`),
 * reading each list not already in `lists`. A missing list adds nothing: there is nothing
 * to keep for it (verify --remote reports it).
 */
export async function markFileLists(remote: Remote, digests: Iterable<string>, lists: Set<string>, chunks: DigestSet, limit: LimitFunction): Promise<void> {
  const todo = [...new Set(digests)].filter((d) => !lists.has(d));
  for (const d of todo) lists.add(d);
  await Promise.all(
    todo.map((d) =>
      limit(async () => {
        const key = keys.fileList(d);
        const got = await remote.get(key);
        if (!got) return;
        for (const [c] of decodeDoc(fileListSchema, got.body, key).chunks) chunks.add(c);
      }),
    ),
  );
}
