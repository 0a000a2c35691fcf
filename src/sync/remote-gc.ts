import pLimit, { type LimitFunction } from 'p-limit';
import { ConflictError, UsageError } from '../errors.js';
import { DigestSet } from '../core/digest-set.js';
import { keys, type RemovedDoc } from '../core/remote-layout.js';
import { decideRetention, type RetentionPolicy, type RetentionVerdict } from '../core/retention.js';
import { listObjectsExcept, type ObjectInfo, type Remote } from '../remote/remote.js';
import { barrier } from '../store/test-barrier.js';
import type { Repository } from '../workspace/repository.js';
import { GcLease, gcLeaseMs } from './remote-gc-state.js';
import { listByName, markFileLists, readManifestFacts, readModelRefs, type ManifestFacts, type ModelRefs } from './remote-gc-mark.js';
import type { StoreSession } from './remote-session.js';
import { jobsOrDefault } from './transfer-progress.js';
import { recordUnrecordedTombstone, writeTombstones } from './tombstones.js';

/** What remote gc is asked to do. */
export interface RemoteGcRequest {
  /** Retention policy per model; a model without one keeps every version. */
  policies: ReadonlyMap<string, RetentionPolicy>;
  /** Unreferenced objects younger than this (by the remote's clock) are kept. */
  graceMs: number;
  dryRun: boolean;
  jobs?: number;
  actor: string;
  argv: readonly string[];
  /** Asked after the mark, before anything is deleted; false aborts (ConflictError ABORTED, 4). */
  confirm?: (plan: RemoteGcResult) => Promise<boolean>;
}

/** A version gc let go (or would). */
export interface GcRemovedVersion {
  model: string;
  number: number;
  id: string;
  reason: string;
}

/** A version gc keeps, and why (core/retention.ts reasons). */
export interface GcKeptVersion {
  model: string;
  number: number;
  id: string;
  reasons: string[];
}

/** Counts and bytes of one kind of object. */
export interface ObjectCount {
  count: number;
  bytes: number;
}

/** What remote gc did (or, with dryRun, would do). The --json shape. */
export interface RemoteGcResult {
  remote: string;
  dryRun: boolean;
  graceSeconds: number;
  removedVersions: GcRemovedVersion[];
  keptVersions: GcKeptVersion[];
  /** `tempFiles`: what killed writes left on a directory remote, older than the grace period. */
  deleted: { manifests: ObjectCount; fileLists: ObjectCount; chunks: ObjectCount; signatures: ObjectCount; tempFiles: ObjectCount; bytes: number };
  /** Unreferenced objects kept because they are younger than the grace period (a later gc takes them). */
  keptInGrace: ObjectCount;
  /** Numbered versions kept because something was protected at the re-check (a tag or stage moved onto them meanwhile). */
  rescued: string[];
  /**
   * Removals on no record: tombstones whose `remove` event was never published (a gc or rm
   * killed between the two writes), older than a gc lease. The gc publishes an event for each
   * (a dry run only lists them): docs/design.md §16.
   */
  unrecordedRemovals: { model: string; number: number; id: string }[];
}

interface Candidate {
  key: string;
  size: number;
}

/**
 * Remote gc (docs/design.md §16): takes the gc state (one gc at a time), marks from every
 * reference the remote holds, decides retention, then — unless dry-run — starts a sweep
 * (epoch + 1, so every push re-checks), re-reads every reference, writes tombstones and
 * `remove` events for the versions let go, and deletes only objects unreferenced at both
 * the mark and the re-check and older than the grace period at the mark, each delete under
 * the lease. Manifests go before file lists, file lists before chunks.
 */
export async function collectRemoteGarbage(repo: Repository, session: StoreSession, req: RemoteGcRequest): Promise<RemoteGcResult> {
  if (!session.conditionalWrites) {
    throw new UsageError('GC_UNSAFE_REMOTE', `${session.displayUrl} ignores conditional writes, so a gc there cannot be made safe against concurrent pushes`, {
      hint: 'run remote gc only on a store that honours If-Match / If-None-Match (AWS S3, Ceph RGW, MinIO, a directory)',
    });
  }
  const limit = pLimit(jobsOrDefault(req.jobs));
  const { remote } = session;
  const lease = req.dryRun ? null : await GcLease.acquire(remote, req.actor, gcLeaseMs(repo.env));
  try {
    barrier('gc-remote-mark');
    const mark = await markRemote(remote, req, limit, gcLeaseMs(repo.env));
    const result: RemoteGcResult = {
      remote: session.displayUrl,
      dryRun: req.dryRun,
      graceSeconds: req.graceMs / 1000,
      removedVersions: mark.removals,
      keptVersions: mark.kept,
      deleted: deletedCounts([mark.manifests, mark.fileLists, mark.chunks, mark.signatures, mark.tempFiles]),
      keptInGrace: mark.keptInGrace,
      rescued: [],
      unrecordedRemovals: mark.unrecorded.map((u) => ({ model: u.model, number: u.doc.number, id: u.doc.version })),
    };
    if (!lease) return result;
    if (req.confirm && !(await req.confirm(result))) {
      await lease.transition('idle');
      throw new ConflictError('ABORTED', 'remote gc aborted at the confirmation; nothing was deleted');
    }

    barrier('gc-remote-before-sweep');
    await lease.transition('sweep');
    barrier('gc-remote-sweep');
    const swept = await recheckAndSweep(repo, session, req, mark, lease, limit);
    result.removedVersions = swept.removed;
    result.rescued = swept.rescued;
    result.unrecordedRemovals = swept.recorded;
    result.deleted = swept.deleted;
    barrier('gc-remote-swept');
    await lease.transition('idle');
    return result;
  } finally {
    lease?.stop();
  }
}

/** The outcome of the mark. */
interface Mark {
  refs: Map<string, ModelRefs>;
  facts: Map<string, ManifestFacts>;
  /** Manifests listed at the mark. */
  listedManifests: Map<string, ObjectInfo>;
  /** Version ids whose objects are referenced (their chunks are in `chunkRefs`). */
  referencedVersions: Set<string>;
  listRefs: Set<string>;
  chunkRefs: DigestSet;
  removals: GcRemovedVersion[];
  kept: GcKeptVersion[];
  /** Candidates: unreferenced at the mark and older than the grace period. */
  manifests: Candidate[];
  fileLists: Candidate[];
  chunks: Candidate[];
  signatures: Candidate[];
  /** Temp files of killed writes (a directory remote's), older than the grace period. */
  tempFiles: Candidate[];
  /** Numberless manifests that were old at the mark, with their ETag then. */
  orphanManifests: Map<string, string>;
  keptInGrace: ObjectCount;
  /** Tombstones older than a lease whose `remove` event is not on the remote. */
  unrecorded: { model: string; doc: RemovedDoc }[];
}

async function markRemote(remote: Remote, req: RemoteGcRequest, limit: LimitFunction, leaseMs: number): Promise<Mark> {
  const markedAt = Date.now();
  const cutoff = markedAt - req.graceMs;
  const old = (o: ObjectInfo) => (o.lastModified ? o.lastModified.getTime() <= cutoff : false);
  const refs = await readModelRefs(remote, limit, { events: true });
  const listedManifests = await listByName(remote, 'versions/', '.json');
  if ([...listedManifests.values()].some((o) => !o.lastModified)) {
    throw new UsageError('GC_UNSUPPORTED_REMOTE', 'this remote does not report when objects were written, so remote gc cannot measure its grace period', {
      hint: 'remote gc runs on directory and S3 remotes',
    });
  }
  const facts = new Map<string, ManifestFacts>();
  const numbered = new Map<string, { model: string; number: number }>();
  const tombstoned = new Set<string>();
  for (const r of refs.values()) {
    for (const [n, id] of r.numbers) {
      if (r.removed.has(n)) tombstoned.add(id);
      else numbered.set(id, { model: r.model, number: n });
    }
  }
  await Promise.all(
    [...numbered.keys()].filter((id) => listedManifests.has(id)).map((id) =>
      limit(async () => {
        const f = await readManifestFacts(remote, id);
        if (f) facts.set(id, f);
      }),
    ),
  );

  // Retention, model by model.
  const removals: GcRemovedVersion[] = [];
  const kept: GcKeptVersion[] = [];
  const referencedVersions = new Set<string>();
  const now = new Date(markedAt);
  for (const r of [...refs.values()].sort((a, b) => (a.model < b.model ? -1 : 1))) {
    const tagsOf = invert(r.tags);
    const stagesOf = invert(r.stages);
    const live = [...r.numbers].filter(([n]) => !r.removed.has(n));
    const verdicts: RetentionVerdict[] = decideRetention(
      live.map(([n, id]) => ({
        number: n,
        id,
        created: facts.get(id)?.created ?? '',
        tags: tagsOf.get(id) ?? [],
        stages: stagesOf.get(id) ?? [],
        everHeld: [...(r.everHeld.get(id) ?? [])],
      })),
      req.policies.get(r.model) ?? null,
      now,
    );
    for (const v of verdicts.sort((a, b) => a.number - b.number)) {
      if (v.keep) {
        kept.push({ model: r.model, number: v.number, id: v.id, reasons: v.reasons });
        referencedVersions.add(v.id);
      } else {
        removals.push({ model: r.model, number: v.number, id: v.id, reason: retentionReason(req.policies.get(r.model)!) });
      }
    }
  }
  const removing = new Set(removals.map((v) => v.id));
  // A removed version that a tag or stage still names keeps its objects, as the sweep's
  // re-check keeps them: the dry run must report what the real run deletes.
  for (const r of refs.values()) for (const id of [...r.tags.values(), ...r.stages.values()]) if (tombstoned.has(id)) referencedVersions.add(id);

  // Numberless manifests: a push on its way (young) is a root; an old one is an orphan.
  const manifests: Candidate[] = [];
  const orphanManifests = new Map<string, string>();
  const keptInGrace: ObjectCount = { count: 0, bytes: 0 };
  for (const [id, o] of listedManifests) {
    if (referencedVersions.has(id)) continue;
    if (removing.has(id) || tombstoned.has(id)) {
      manifests.push({ key: o.key, size: o.size });
      continue;
    }
    if (numbered.has(id)) continue;
    if (old(o)) {
      manifests.push({ key: o.key, size: o.size });
      orphanManifests.set(id, o.etag);
    } else {
      referencedVersions.add(id);
      keptInGrace.count++;
      keptInGrace.bytes += o.size;
    }
  }
  // Young numberless manifests are read too (their chunks are kept).
  await Promise.all(
    [...referencedVersions].filter((id) => !facts.has(id)).map((id) =>
      limit(async () => {
        const f = await readManifestFacts(remote, id);
        if (f) facts.set(id, f);
      }),
    ),
  );

  const listRefs = new Set<string>();
  const chunkRefs = new DigestSet();
  for (const id of referencedVersions) for (const c of facts.get(id)?.chunks ?? []) chunkRefs.add(c);
  await markFileLists(remote, [...referencedVersions].flatMap((id) => facts.get(id)?.lists ?? []), listRefs, chunkRefs, limit);

  const fileLists: Candidate[] = [];
  for await (const o of listObjectsExcept(remote, 'files/', (key) => listRefs.has(key.slice('files/'.length, -'.json'.length)))) {
    if (old(o)) fileLists.push({ key: o.key, size: o.size });
    else {
      keptInGrace.count++;
      keptInGrace.bytes += o.size;
    }
  }
  const chunks: Candidate[] = [];
  for await (const o of listObjectsExcept(remote, 'chunks/', (key) => chunkRefs.has(key.slice('chunks/'.length)))) {
    if (old(o)) chunks.push({ key: o.key, size: o.size });
    else {
      keptInGrace.count++;
      keptInGrace.bytes += o.size;
    }
  }
  const goneManifests = new Set(manifests.map((m) => m.key.slice('versions/'.length, -'.json'.length)));
  const signatures: Candidate[] = [];
  for (const prefix of ['signatures/', 'attestations/']) {
    for await (const o of remote.list(prefix)) {
      const id = o.key.slice(prefix.length).split('/')[0];
      if (goneManifests.has(id)) signatures.push({ key: o.key, size: o.size });
    }
  }
  // A push killed mid-write leaves its temp file beside the target; nothing names it, and
  // no listing shows it. One untouched for the grace period has no writer left (a write
  // keeps its file's time fresh until the rename).
  const tempFiles: Candidate[] = [];
  if (remote.leftovers) for await (const o of remote.leftovers()) if (old(o)) tempFiles.push({ key: o.key, size: o.size });
  // A tombstone's writer publishes its event right after it (rm reads the refs in between):
  // one older than a lease with no event has lost its writer. Younger ones are left to it.
  const unrecorded: Mark['unrecorded'] = [];
  for (const r of refs.values()) {
    for (const [n, doc] of r.removed) {
      const written = r.removedListed.get(n)?.lastModified?.getTime();
      if (written !== undefined && written <= markedAt - leaseMs && !r.eventKeys.has(keys.event(r.model, doc.at, doc.event)) && !r.removeEvents.has(doc.version)) unrecorded.push({ model: r.model, doc });
    }
  }
  return { refs, facts, listedManifests, referencedVersions, listRefs, chunkRefs, removals, kept, manifests, fileLists, chunks, signatures, tempFiles, orphanManifests, keptInGrace, unrecorded };
}

/**
 * The sweep: re-reads every reference (the mark may be stale), keeps whatever became
 * referenced, writes tombstones and events for the removals still due, then deletes.
 */
async function recheckAndSweep(repo: Repository, session: StoreSession, req: RemoteGcRequest, mark: Mark, lease: GcLease, limit: LimitFunction) {
  const { remote } = session;
  const refs = await readModelRefs(remote, limit, { events: false, known: mark.refs });
  const protectedIds = new Set<string>();
  const tombstoned = new Set<string>();
  const numberOf = new Map<string, { model: string; number: number }>();
  for (const r of refs.values()) {
    for (const id of r.tags.values()) protectedIds.add(id);
    for (const id of r.stages.values()) protectedIds.add(id);
    for (const [n, id] of r.numbers) {
      if (r.removed.has(n)) tombstoned.add(id);
      else numberOf.set(id, { model: r.model, number: n });
    }
  }
  // Removals still due: the version has not gained a tag or stage since the mark.
  const rescued: string[] = [];
  const removed: GcRemovedVersion[] = [];
  for (const v of mark.removals) {
    if (protectedIds.has(v.id)) rescued.push(v.id);
    else removed.push(v);
  }
  await writeTombstones(repo, session, removed, req, limit);
  for (const v of removed) tombstoned.add(v.id);
  const recorded: Mark['unrecorded'] = [];
  await Promise.all(
    mark.unrecorded.map((u) =>
      limit(async () => {
        if (refs.get(u.model)?.removed.get(u.doc.number)?.event !== u.doc.event) return; // taken back meanwhile
        if (await recordUnrecordedTombstone(repo, session, u.model, u.doc, req)) recorded.push(u);
      }),
    ),
  );

  // Every manifest there now is a root, except tombstoned versions and orphans unchanged since the mark.
  const listed = await listByName(remote, 'versions/', '.json');
  const roots: string[] = [];
  for (const [id, o] of listed) {
    if (tombstoned.has(id) && !protectedIds.has(id)) continue;
    const orphanEtag = mark.orphanManifests.get(id);
    if (orphanEtag !== undefined && orphanEtag === o.etag && !numberOf.has(id) && !protectedIds.has(id)) continue;
    roots.push(id);
  }
  const newRoots = roots.filter((id) => !mark.referencedVersions.has(id));
  const facts = new Map<string, ManifestFacts>();
  await Promise.all(
    newRoots.map((id) =>
      limit(async () => {
        const f = mark.facts.get(id) ?? (await readManifestFacts(remote, id));
        if (f) facts.set(id, f);
      }),
    ),
  );
  const chunkRefs = mark.chunkRefs;
  const listRefs = mark.listRefs;
  for (const f of facts.values()) for (const c of f.chunks) chunkRefs.add(c);
  await markFileLists(remote, [...facts.values()].flatMap((f) => f.lists), listRefs, chunkRefs, limit);
  const rootSet = new Set(roots);

  const manifests = mark.manifests.filter((c) => !rootSet.has(c.key.slice('versions/'.length, -'.json'.length)));
  const goneIds = new Set(manifests.map((c) => c.key.slice('versions/'.length, -'.json'.length)));
  const signatures = mark.signatures.filter((c) => goneIds.has(c.key.split('/')[1]));
  const fileLists = mark.fileLists.filter((c) => !listRefs.has(c.key.slice('files/'.length, -'.json'.length)));
  const chunks = mark.chunks.filter((c) => !chunkRefs.has(c.key.slice('chunks/'.length)));

  barrier('gc-remote-delete');
  for (const batch of [manifests, signatures, fileLists, chunks]) await deleteAll(batch, lease, limit, (key) => remote.delete(key));
  await deleteAll(mark.tempFiles, lease, limit, (key) => remote.deleteLeftover!(key));
  return { removed, rescued, recorded: recorded.map((u) => ({ model: u.model, number: u.doc.number, id: u.doc.version })), deleted: deletedCounts([manifests, fileLists, chunks, signatures, mark.tempFiles]) };
}

/** Candidates queued at once: a promise and closure per object for 100,000 chunks held ~50 MB. */
const DELETE_SLICE = 2048;

async function deleteAll(batch: readonly Candidate[], lease: GcLease, limit: LimitFunction, remove: (key: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < batch.length; i += DELETE_SLICE) {
    await Promise.all(
      batch.slice(i, i + DELETE_SLICE).map((c) =>
        limit(async () => {
          lease.assertHeld();
          await remove(c.key);
        }),
      ),
    );
  }
}

function retentionReason(p: RetentionPolicy): string {
  const parts = [p.keepLast !== null ? `keep_last ${p.keepLast}` : null, p.keepNewerThanMs !== null ? `keep_newer_than ${Math.round(p.keepNewerThanMs / 86_400_000)}d` : null].filter(Boolean);
  return `retention: outside ${parts.join(' and ')}`;
}

function invert(m: Map<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, id] of m) out.set(id, [...(out.get(id) ?? []), name]);
  return out;
}

/** The `deleted` of a result, from the candidates of each kind in its order. */
function deletedCounts([manifests, fileLists, chunks, signatures, tempFiles]: readonly (readonly Candidate[])[]): RemoteGcResult['deleted'] {
  const counts = { manifests: sum(manifests), fileLists: sum(fileLists), chunks: sum(chunks), signatures: sum(signatures), tempFiles: sum(tempFiles) };
  return { ...counts, bytes: Object.values(counts).reduce((total, c) => total + c.bytes, 0) };
}

function sum(c: readonly Candidate[]): ObjectCount {
  return { count: c.length, bytes: c.reduce((s, x) => s + x.size, 0) };
}
