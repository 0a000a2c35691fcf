import pLimit from 'p-limit';
import { ConflictError, IntegrityError } from '../errors.js';
import { buildEvent } from '../core/events.js';
import { decodeDoc, encodeDoc, keys, numberDocSchema, stageDocSchema, tagDocSchema, type FileList } from '../core/remote-layout.js';
import { parseRef } from '../core/refs.js';
import { FORMAT_VERSION } from '../core/manifest.js';
import { appendEvent } from '../store/events-table.js';
import { unpushedEvents, unpushedRefMoves } from '../store/unpushed-events.js';
import { publishEvents } from './publish-events.js';
import { readRange } from '../store/positional-io.js';
import { hashFileSync, type ChunkRef } from '../store/hash-file.js';
import { writeTransaction } from '../store/index-db.js';
import { getRemoteRef, knownRemoteChunks, rememberRemoteChunks, rememberRemoteVersion, remoteVersionNumber, setRemoteRef } from '../store/remote-tracking.js';
import { requireModel, resolveRef } from '../store/resolve-ref.js';
import { fileChunks, getVersion, listVersions, recordFileChunks, renumberVersion, versionFiles, type VersionRow } from '../store/version-records.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import { openRemoteSession, type RemoteSession } from './remote-session.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import { jobsOrDefault, type ProgressListener } from './transfer-progress.js';
import type { Remote } from '../remote/remote.js';

export interface PushOptions extends CommonOptions {
  /** Model names (every version) or references (one version); empty: everything. */
  refs?: string[];
  remote?: string;
  /** Requests in flight (default 8). */
  jobs?: number;
  argv?: string[];
  onProgress?: ProgressListener;
}

export interface PushResult {
  remote: string;
  versions: { ref: string; id: string; number: number; status: 'uploaded' | 'already-there' }[];
  chunks: { uploaded: number; alreadyThere: number; knownFromIndex: number };
  bytesUploaded: number;
  renumbered: { model: string; id: string; from: number; to: number }[];
  tags: { model: string; tag: string; status: 'created' | 'moved' | 'deleted' | 'in-sync' | 'conflict' }[];
  stages: { model: string; stage: string; status: 'moved' | 'in-sync' | 'conflict'; remoteVersion?: string | null; movedBy?: string }[];
  events: number;
  warnings: string[];
}

/** With more unknown chunks than this, one listing of chunks/ beats a HEAD per chunk. */
const HEAD_LIMIT = 256;

/**
 * Uploads what the remote lacks, in the docs/design.md §6 write order: chunks → file lists →
 * manifests → numbers → tags/stages → events, so no reader ever sees a reference to
 * something absent. Chunks are remembered per remote as they land, so a killed push
 * resumes where it stopped. Numbers are claimed by create-only writes (renumbering local
 * versions the remote already gave away); tags are create-only; stages are compare-and-swap
 * against what was last fetched. Tag or stage conflicts are reported and end in exit 4,
 * after everything else has been pushed.
 */
export async function push(opts: PushOptions = {}): Promise<PushResult> {
  const jobs = jobsOrDefault(opts.jobs);
  return withRepository(opts, async (repo) => {
    const session = await openRemoteSession(repo.settings, repo.root, opts.remote, { create: true, db: repo.db, env: repo.env, probe: true });
    try {
      return await pushTo(repo, session, opts, jobs);
    } finally {
      await session.remote.close();
    }
  });
}

/** Which versions a push covers (ascending by model, number) and which models' refs. */
export function selectPushVersions(repo: Repository, refs: readonly string[]): { versions: VersionRow[]; models: Set<string> } {
  const versions = new Map<string, VersionRow>();
  const models = new Set<string>();
  if (refs.length === 0) {
    const names = (repo.db.prepare('SELECT name FROM models').all() as { name: string }[]).map((r) => r.name);
    for (const n of names) for (const v of listVersions(repo.db, n)) versions.set(v.id, v);
    names.forEach((n) => models.add(n));
  }
  for (const ref of refs) {
    if (!ref.includes('@')) {
      parseRef(ref);
      requireModel(repo.db, ref);
      for (const v of listVersions(repo.db, ref)) versions.set(v.id, v);
      models.add(ref);
    } else {
      const v = resolveRef(repo.db, ref);
      versions.set(v.id, v);
      models.add(v.model);
    }
  }
  const sorted = [...versions.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.number - b.number));
  return { versions: sorted, models };
}

/** The push itself, on an open repository and remote session (`--push` on promote, tag and rollback uses it). */
export async function pushTo(repo: Repository, session: RemoteSession, opts: PushOptions, jobs: number): Promise<PushResult> {
  const { remote, remoteId } = session;
  const warnings: string[] = [];
  if (!session.conditionalWrites) {
    warnings.push(`${session.displayUrl} ignores conditional writes: version numbers, tags and stages are not safe against concurrent writers there`);
  }
  const { versions, models } = selectPushVersions(repo, opts.refs ?? []);
  const limit = pLimit(jobs);

  // 1. Which versions still need their data: not remembered, and no manifest on the remote.
  const needData: VersionRow[] = [];
  const result: PushResult['versions'] = [];
  const unknown = versions.filter((v) => remoteVersionNumber(repo.db, remoteId, v.id) === undefined);
  const present = await Promise.all(unknown.map((v) => limit(async () => !!(await remote.head(keys.version(v.id))))));
  unknown.forEach((v, i) => {
    if (!present[i]) needData.push(v);
  });
  const alreadyThere = new Set(unknown.filter((_, i) => present[i]).map((v) => v.id));

  // 2. Chunks of those versions that the remote may lack.
  const fileLists = new Map<string, ChunkRef[]>();
  const chunkSource = new Map<string, { object: string; offset: number; length: number }>();
  for (const v of needData) {
    for (const f of versionFiles(repo.db, v.id)) {
      if (fileLists.has(f.digest)) continue;
      let chunks = fileChunks(repo.db, f.digest);
      if (!chunks && f.size > 0) chunks = rechunkLocalObject(repo, f.digest);
      chunks ??= [];
      fileLists.set(f.digest, chunks);
      for (const c of chunks) if (!chunkSource.has(c.digest)) chunkSource.set(c.digest, { object: f.digest, offset: c.offset, length: c.length });
    }
  }
  for (const digest of new Set([...chunkSource.values()].map((s) => s.object))) {
    if (!repo.store.hasObject(digest)) {
      throw new IntegrityError('OBJECT_MISSING', `object ${digest.slice(0, 12)} is not in the local store, so it cannot be pushed`, {
        hint: 'pull the version from the remote it came from, or run `modelctl verify`',
      });
    }
  }
  const allChunks = [...chunkSource.keys()];
  const known = knownRemoteChunks(repo.db, remoteId, allChunks);
  let candidates = allChunks.filter((d) => !known.has(d));
  opts.onProgress?.({ phase: 'checking', bytesDone: 0, bytesTotal: 0, itemsDone: 0, itemsTotal: candidates.length });
  const onRemote = new Set<string>();
  if (candidates.length > HEAD_LIMIT) {
    for await (const o of remote.list('chunks/')) onRemote.add(o.key.slice('chunks/'.length));
  } else {
    const heads = await Promise.all(candidates.map((d) => limit(async () => !!(await remote.head(keys.chunk(d))))));
    candidates.forEach((d, i) => heads[i] && onRemote.add(d));
  }
  const presentChunks = candidates.filter((d) => onRemote.has(d));
  if (presentChunks.length) writeTransaction(repo.db, () => rememberRemoteChunks(repo.db, remoteId, presentChunks));
  candidates = candidates.filter((d) => !onRemote.has(d));

  // 3. Upload the missing chunks, remembering them in batches (resume point).
  const bytesTotal = candidates.reduce((s, d) => s + (chunkSource.get(d)?.length ?? 0), 0);
  let bytesDone = 0;
  let itemsDone = 0;
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    writeTransaction(repo.db, () => rememberRemoteChunks(repo.db, remoteId, batch));
  };
  await Promise.all(
    candidates.map((d) =>
      limit(async () => {
        const src = chunkSource.get(d)!;
        const bytes = readRange(repo.store.objectPath(src.object), src.offset, src.length);
        await remote.put(keys.chunk(d), bytes, { sha256: Buffer.from(d, 'hex') });
        bytesDone += bytes.length;
        itemsDone++;
        pending.push(d);
        if (pending.length >= 64) flush();
        opts.onProgress?.({ phase: 'uploading', bytesDone, bytesTotal, itemsDone, itemsTotal: candidates.length });
      }),
    ),
  );
  flush();

  // 4. File lists of multi-chunk files.
  const listsToPut = [...fileLists.entries()].filter(([, c]) => c.length > 1);
  const knownLists = knownRemoteChunks(repo.db, remoteId, listsToPut.map(([d]) => `f:${d}`));
  await Promise.all(
    listsToPut
      .filter(([d]) => !knownLists.has(`f:${d}`))
      .map(([digest, chunks]) =>
        limit(async () => {
          const doc: FileList = { format: FORMAT_VERSION, digest, size: chunks.reduce((s, c) => s + c.length, 0), chunks: chunks.map((c) => [c.digest, c.length]) };
          await remote.put(keys.fileList(digest), encodeDoc(doc));
        }),
      ),
  );
  if (listsToPut.length) writeTransaction(repo.db, () => rememberRemoteChunks(repo.db, remoteId, listsToPut.map(([d]) => `f:${d}`)));

  // 5. Manifests.
  opts.onProgress?.({ phase: 'metadata', bytesDone, bytesTotal, itemsDone, itemsTotal: candidates.length });
  await Promise.all(
    needData.map((v) =>
      limit(async () => {
        const bytes = repo.store.readManifestBytes(v.id);
        if (!bytes) throw new IntegrityError('MANIFEST_MISSING', `the manifest of ${v.model}@v${v.number} is missing locally`, { hint: 'run `modelctl verify`' });
        await remote.put(keys.version(v.id), bytes);
      }),
    ),
  );

  // 6. Numbers, in ascending order per model, claimed create-only.
  const actor = await resolveActor(repo.root);
  const renumbered: PushResult['renumbered'] = [];
  for (const v0 of versions) {
    const known = remoteVersionNumber(repo.db, remoteId, v0.id);
    if (known !== undefined && known !== null) {
      const v = getVersion(repo.db, v0.id)!;
      result.push({ ref: `${v.model}@v${v.number}`, id: v.id, number: v.number, status: 'already-there' });
      continue;
    }
    const v = getVersion(repo.db, v0.id)!; // re-read: an earlier claim may have bumped it
    const number = await claimNumber(remote, v.model, v.id, v.number);
    writeTransaction(repo.db, () => {
      if (number !== v.number) {
        for (const m of renumberVersion(repo.db, v.id, number)) {
          renumbered.push({ model: v.model, ...m });
          appendEvent(
            repo.db,
            buildEvent({ actor, host: hostName(), action: 'renumber', model: v.model, version: m.id, from: `v${m.from}`, to: `v${m.to}`, reason: `the remote ${session.displayUrl} had given v${m.from} to another version`, argv: opts.argv ?? [], data: { from: m.from, to: m.to } }),
          );
        }
      }
      rememberRemoteVersion(repo.db, remoteId, v.id, number);
    });
    result.push({ ref: `${v.model}@v${number}`, id: v.id, number, status: alreadyThere.has(v.id) ? 'already-there' : 'uploaded' });
  }

  // 7. Tags and stages that moved locally (unpushed events say so).
  const held = new Set<string>(); // event ids held back by a conflict
  const tags = await pushTags(repo, session, models, held);
  const stages = await pushStages(repo, session, models, actor, held);

  // 8. Events, oldest first, create-only (an event already there is fine).
  const events = unpushedEvents(repo.db, models).filter((u) => !held.has(u.event.id));
  await publishEvents(repo.db, remote, events, limit);
  const out: PushResult = {
    remote: session.displayUrl,
    versions: result,
    chunks: { uploaded: candidates.length, alreadyThere: presentChunks.length, knownFromIndex: known.size },
    bytesUploaded: bytesDone,
    renumbered,
    tags,
    stages,
    events: events.length,
    warnings,
  };
  const conflicts = [...tags.filter((t) => t.status === 'conflict').map((t) => `tag ${t.model}@${t.tag}`), ...stages.filter((s) => s.status === 'conflict').map((s) => `stage ${s.model}@${s.stage} (moved by ${s.movedBy ?? 'someone'} to ${s.remoteVersion?.slice(0, 12) ?? 'nothing'})`)];
  if (conflicts.length) {
    throw new ConflictError('PUSH_CONFLICT', `pushed the versions, but the remote moved meanwhile: ${conflicts.join('; ')}`, {
      hint: 'run `modelctl fetch` to take the remote state, then tag or promote again',
      data: { result: out },
    });
  }
  return out;
}

/**
 * Claims a number for `id`: from `start` upward, the first number that is free (created
 * create-only) or already holds this very version (an earlier, interrupted push).
 */
export async function claimNumber(remote: Remote, model: string, id: string, start: number): Promise<number> {
  for (let n = start; ; ) {
    const key = keys.number(model, n);
    const got = await remote.get(key);
    if (got) {
      if (decodeDoc(numberDocSchema, got.body, key).version === id) return n;
      n++;
      continue;
    }
    try {
      await remote.put(key, encodeDoc({ version: id }), { condition: { ifAbsent: true } });
      return n;
    } catch (err) {
      if ((err as { code?: string }).code !== 'PRECONDITION_FAILED') throw err;
      // Someone claimed it between our read and write: read it again (it may be ours).
    }
  }
}

function rechunkLocalObject(repo: Repository, digest: string): ChunkRef[] {
  const h = hashFileSync(repo.store.objectPath(digest));
  if (h.digest !== digest) throw new IntegrityError('CORRUPT_OBJECT', `object ${digest.slice(0, 12)} is corrupt`, { hint: 'run `modelctl verify`' });
  writeTransaction(repo.db, () => recordFileChunks(repo.db, digest, h.chunks));
  return h.chunks;
}

async function pushTags(repo: Repository, session: RemoteSession, models: Set<string>, held: Set<string>): Promise<PushResult['tags']> {
  const out: PushResult['tags'] = [];
  const { remote, remoteId } = session;
  for (const { model, name: tag, events: evs } of unpushedRefMoves(repo.db, models, 'tag').values()) {
    const key = keys.tag(model, tag);
    const local = repo.db
      .prepare('SELECT t.version_id AS version, t.message, t.actor, t.created_at AS at FROM tags t JOIN models m ON m.id = t.model_id WHERE m.name = ? AND t.name = ?')
      .get(model, tag) as { version: string; message: string | null; actor: string; at: string } | undefined;
    const last = getRemoteRef(repo.db, remoteId, key);
    const lastEvent = evs[evs.length - 1];
    if (local && remoteVersionNumber(repo.db, remoteId, local.version) === undefined) continue; // its version is not on this remote
    const current = await remote.get(key);
    const currentDoc = current ? decodeDoc(tagDocSchema, current.body, key) : null;
    if (!local) {
      // Deleted locally: delete remotely only if it still points where we last saw it.
      if (currentDoc && (!last || (last.value as { version?: string } | null)?.version === currentDoc.version)) await remote.delete(key);
      setRemoteRef(repo.db, remoteId, key, { etag: null, value: null });
      out.push({ model, tag, status: 'deleted' });
      continue;
    }
    if (currentDoc?.version === local.version) {
      setRemoteRef(repo.db, remoteId, key, { etag: current!.etag, value: currentDoc });
      out.push({ model, tag, status: 'in-sync' });
      continue;
    }
    const doc = { version: local.version, message: local.message, actor: local.actor, at: local.at, event: lastEvent.id };
    const forced = evs.some((e) => e.action === 'tag-move');
    try {
      if (!currentDoc) {
        const { etag } = await remote.put(key, encodeDoc(doc), { condition: { ifAbsent: true } });
        setRemoteRef(repo.db, remoteId, key, { etag, value: doc });
        out.push({ model, tag, status: 'created' });
      } else if (forced) {
        const { etag } = await remote.put(key, encodeDoc(doc), { condition: { ifMatch: current!.etag } });
        setRemoteRef(repo.db, remoteId, key, { etag, value: doc });
        out.push({ model, tag, status: 'moved' });
      } else {
        throw Object.assign(new Error('tag exists'), { code: 'PRECONDITION_FAILED' });
      }
    } catch (err) {
      if ((err as { code?: string }).code !== 'PRECONDITION_FAILED') throw err;
      evs.forEach((e) => held.add(e.id));
      out.push({ model, tag, status: 'conflict' });
    }
  }
  return out;
}

async function pushStages(repo: Repository, session: RemoteSession, models: Set<string>, actor: string, held: Set<string>): Promise<PushResult['stages']> {
  const out: PushResult['stages'] = [];
  const { remote, remoteId } = session;
  for (const { model, name: stage, events: evs } of unpushedRefMoves(repo.db, models, 'stage').values()) {
    const key = keys.stage(model, stage);
    const local = repo.db
      .prepare('SELECT s.version_id AS version, s.event_id AS event FROM stages s JOIN models m ON m.id = s.model_id WHERE m.name = ? AND s.stage = ?')
      .get(model, stage) as { version: string; event: string | null } | undefined;
    if (!local) continue;
    if (remoteVersionNumber(repo.db, remoteId, local.version) === undefined) continue;
    const last = getRemoteRef(repo.db, remoteId, key);
    const lastDoc = (last?.value ?? null) as { version: string } | null;
    if (lastDoc?.version === local.version) {
      out.push({ model, stage, status: 'in-sync' });
      continue;
    }
    const doc = { version: local.version, previous: lastDoc?.version ?? null, event: evs[evs.length - 1].id, actor, at: new Date().toISOString() };
    try {
      const { etag } = await remote.put(key, encodeDoc(doc), { condition: last?.etag ? { ifMatch: last.etag } : { ifAbsent: true } });
      setRemoteRef(repo.db, remoteId, key, { etag, value: doc });
      out.push({ model, stage, status: 'moved' });
    } catch (err) {
      if ((err as { code?: string }).code !== 'PRECONDITION_FAILED') throw err;
      const now = await remote.get(key);
      const nowDoc = now ? decodeDoc(stageDocSchema, now.body, key) : null;
      if (nowDoc?.version === local.version) {
        setRemoteRef(repo.db, remoteId, key, { etag: now!.etag, value: nowDoc });
        out.push({ model, stage, status: 'in-sync' });
        continue;
      }
      evs.forEach((e) => held.add(e.id));
      out.push({ model, stage, status: 'conflict', remoteVersion: nowDoc?.version ?? null, movedBy: nowDoc?.actor });
    }
  }
  return out;
}
