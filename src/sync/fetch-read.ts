import type { LimitFunction } from 'p-limit';
import { eventContentId, type AuditEvent } from '../core/events.js';
import { parseManifest, type VersionManifest } from '../core/manifest.js';
import { decodeDoc, eventDocSchema, keys, numberDocSchema, parseModelKey, stageDocSchema, tagDocSchema, type StageDoc, type TagDoc } from '../core/remote-layout.js';
import type { ObjectInfo } from '../remote/remote.js';
import { hasEvent } from '../store/events-table.js';
import { getRemoteRef, remoteNumbersOf } from '../store/remote-tracking.js';
import { getVersion } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { Rejections } from './rejected-documents.js';
import type { StoreSession } from './remote-session.js';
import { heldTombstones, type HeldTombstone } from './removed-versions.js';

/** A model's keys on the remote, by kind (numbers, tags, stages, events). */
export type ModelListing = Map<string, ObjectInfo[]>;

/** A ref document read from the remote, valid, with the ETag it was read at. */
export interface FetchedRef<D> {
  key: string;
  name: string;
  etag: string;
  doc: D;
}

/** Everything one fetch read of one model, every document checked (docs/design.md §7, fetch phase 1). */
export interface ModelRead {
  /** Numbers new to this index, ascending, each naming a version whose manifest is known or was read and checked. */
  numbered: { n: number; id: string }[];
  /** Manifests read for versions new to the index (already written to the store). */
  manifests: Map<string, VersionManifest>;
  tags: FetchedRef<TagDoc>[];
  stages: FetchedRef<StageDoc>[];
  /** Events new to the index, in key order (oldest first). */
  events: AuditEvent[];
  /** Ids of listed events the index already holds (now known to be on this remote too). */
  heldEvents: string[];
  /**
   * Tombstones of versions this index holds under a number it had from this remote: the
   * remote has removed them since (docs/design.md §16). `fresh`: read this time, not yet remembered.
   */
  removed?: HeldTombstone[];
}

/** Lists the remote's models/ (or one model's) keys, grouped by model and kind. */
export async function listModels(session: StoreSession, model: string | undefined): Promise<Map<string, ModelListing>> {
  const byModel = new Map<string, ModelListing>();
  for await (const o of session.remote.list(model ? keys.modelPrefix(model) : 'models/')) {
    const k = parseModelKey(o.key);
    if (!k || (model && k.model !== model)) continue;
    const kinds = byModel.get(k.model) ?? new Map<string, ObjectInfo[]>();
    kinds.set(k.kind, [...(kinds.get(k.kind) ?? []), o]);
    byModel.set(k.model, kinds);
  }
  return byModel;
}

/**
 * Reads what changed on the remote for one model since this repository last looked:
 * numbers it did not know, the manifests they name (checked against their ids and stored),
 * tag and stage documents whose ETag changed, and events it does not hold (checked against
 * their ids). A document that fails a check is rejected and skipped; so is a number whose
 * manifest was rejected. Nothing goes into the index here.
 */
export async function readModel(repo: Repository, session: StoreSession, model: string, listing: ModelListing, limit: LimitFunction, rejections: Rejections): Promise<ModelRead> {
  const { remote, remoteId } = session;
  const { db } = repo;
  const knownNumbers = remoteNumbersOf(db, remoteId, model);
  // A removed version (its tombstone, docs/design.md §16) keeps its number but is not fetched.
  const removed = new Set((listing.get('removed') ?? []).map((o) => Number(parseModelKey(o.key)!.name)));
  const numberKeys = (listing.get('numbers') ?? [])
    .map((o) => ({ o, n: Number(parseModelKey(o.key)!.name) }))
    .filter(({ n }) => Number.isSafeInteger(n) && n >= 1 && !knownNumbers.has(n) && !removed.has(n))
    .sort((a, b) => a.n - b.n);
  const tombstones = await heldTombstones(repo, session, model, listing.get('removed') ?? [], limit, rejections);
  const numbers = await Promise.all(
    numberKeys.map(({ o, n }) =>
      limit(async () => {
        const got = await remote.get(o.key);
        const doc = got && rejections.parse(o.key, () => decodeDoc(numberDocSchema, got.body, o.key));
        return doc ? { n, id: doc.version } : null;
      }),
    ),
  );
  const manifests = new Map<string, VersionManifest>();
  const usable = await Promise.all(
    numbers.map((e) =>
      limit(async () => {
        if (!e) return null;
        if (getVersion(db, e.id)) return e;
        const key = keys.version(e.id);
        const got = await remote.get(key);
        if (!got) {
          rejections.reject(keys.number(model, e.n), 'REMOTE_MANIFEST_MISSING', `number ${e.n} names ${key}, which is missing on the remote`);
          return null;
        }
        const m = rejections.parse(key, () => parseManifest(got.body, e.id));
        if (!m) return null;
        if (m.model !== model) {
          rejections.reject(key, 'REMOTE_MODEL_MISMATCH', `${key} belongs to model '${m.model}', not '${model}'`);
          return null;
        }
        repo.store.writeManifest(e.id, got.body);
        manifests.set(e.id, m);
        return e;
      }),
    ),
  );

  // Refs whose ETag changed since the last fetch.
  const changed = async <D>(o: ObjectInfo, decode: (body: Buffer) => D): Promise<FetchedRef<D> | null> => {
    const last = getRemoteRef(db, remoteId, o.key);
    if (last && last.etag === o.etag) return null;
    const got = await remote.get(o.key);
    const doc = got && rejections.parse(o.key, () => decode(got.body));
    return got && doc ? { key: o.key, name: parseModelKey(o.key)!.name, etag: got.etag, doc } : null;
  };
  const tags = await Promise.all((listing.get('tags') ?? []).map((o) => limit(() => changed(o, (b) => decodeDoc(tagDocSchema, b, o.key)))));
  const stages = await Promise.all((listing.get('stages') ?? []).map((o) => limit(() => changed(o, (b) => decodeDoc(stageDocSchema, b, o.key)))));

  const heldEvents: string[] = [];
  const eventKeys = (listing.get('events') ?? [])
    .filter((o) => {
      const id = /([0-9a-f]{64})$/.exec(parseModelKey(o.key)!.name)?.[1];
      if (id === undefined) return false;
      if (!hasEvent(db, id)) return true;
      heldEvents.push(id);
      return false;
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const events = await Promise.all(
    eventKeys.map((o) =>
      limit(async () => {
        const got = await remote.get(o.key);
        const e = got && (rejections.parse(o.key, () => decodeDoc(eventDocSchema, got.body, o.key)) as AuditEvent | null);
        if (!e) return null;
        if (eventContentId(e) !== e.id || !o.key.endsWith(`-${e.id}.json`) || e.model !== model) {
          rejections.reject(o.key, 'REMOTE_EVENT_INVALID', `${o.key} does not hash to its id, or names another model`);
          return null;
        }
        return e;
      }),
    ),
  );
  return {
    numbered: usable.filter((e) => e !== null),
    manifests,
    tags: tags.filter((t) => t !== null),
    stages: stages.filter((s) => s !== null),
    events: events.filter((e) => e !== null),
    heldEvents,
    removed: tombstones,
  };
}
