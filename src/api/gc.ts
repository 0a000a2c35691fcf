import { statSync } from 'node:fs';
import { UsageError, isErrnoException } from '../errors.js';
import { gcGraceSeconds } from '../store/gc-grace.js';
import { buildEvent } from '../core/events.js';
import { parseManifest } from '../core/manifest.js';
import { appendEvent } from '../store/events-table.js';
import { claimObjects, dropDeadClaims, releaseClaims } from '../store/gc-claims.js';
import { deleteObjectRows, gcVersionRows, indexedVersionIds, versionDigests } from '../store/gc-queries.js';
import { writeTransaction } from '../store/index-db.js';
import { barrier } from '../store/test-barrier.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';

export interface GcOptions extends CommonOptions {
  dryRun?: boolean;
  /**
   * Also drop the objects of versions older than the newest N of each model, when they
   * are untagged, hold no stage, and were pushed to a remote (so they can be pulled back).
   */
  keepLast?: number;
  argv?: string[];
}

export interface GcResult {
  dryRun: boolean;
  deleted: { digest: string; size: number }[];
  freedBytes: number;
  keptObjects: number;
  /** Of those kept, objects no version needs that are younger than the grace period (a later gc removes them). */
  keptInGrace: number;
  /** The grace period in seconds (MODELCTL_GC_GRACE_SECONDS, default 900). */
  graceSeconds: number;
  /** Versions whose objects were dropped by --keep-last (their metadata stays). */
  thinnedVersions: string[];
  /**
   * With --keep-last: the older versions it kept whole, and why — a tag or a stage names
   * them, no remote is known to hold them (push them first; their bytes are the only copy),
   * or their bytes are all kept anyway (younger than the grace period, or shared with a
   * version that stays).
   */
  keptOld: { ref: string; id: string; why: ('tagged' | 'staged' | 'on no remote' | 'bytes kept')[] }[];
  tempFilesRemoved: number;
}

/**
 * Deletes local objects no version needs (and, with keepLast, objects only needed by old
 * versions that are safely on a remote). Records one 'gc' event listing what went.
 */
export async function gc(opts: GcOptions = {}): Promise<GcResult> {
  if (opts.keepLast !== undefined && (!Number.isInteger(opts.keepLast) || opts.keepLast < 0)) {
    throw new UsageError('INVALID_KEEP_LAST', '--keep-last needs a whole number ≥ 0');
  }
  return withRepository(opts, (repo) => collectGarbage(repo, opts));
}

interface GcPlan {
  deleted: GcResult['deleted'];
  kept: number;
  keptInGrace: number;
  thinned: string[];
  keptOld: GcResult['keptOld'];
}

/**
 * The gc engine (docs/design.md §9). What to delete is decided inside one write
 * transaction — references, age and claims read under the same lock that every version
 * is recorded under — and the same transaction deletes the rows, claims the objects and
 * records the event; the files go afterwards, and the claims last. A commit whose version
 * transaction comes later sees the claims (or the missing rows and files) and stores the
 * bytes again; one that came earlier is among the references.
 */
export async function collectGarbage(repo: Repository, opts: GcOptions): Promise<GcResult> {
  const actor = await resolveActor(repo.root);
  // Objects written (or reused by a commit) within the grace period are not collected. That
  // only saves a concurrent commit from storing its bytes twice: correctness does not rest
  // on it (store/gc-claims.ts).
  const graceSeconds = gcGraceSeconds(repo.env);
  const graceMs = 1000 * graceSeconds;
  const decide = (): GcPlan => {
    barrier('gc-decide');
    const plan = planCollection(repo, opts.keepLast, graceMs);
    barrier('gc-decided');
    return plan;
  };
  const tempFilesRemoved = opts.dryRun ? 0 : repo.store.sweepTemp();
  let plan: GcPlan;
  if (opts.dryRun) {
    plan = decide();
  } else {
    barrier('gc-start');
    plan = writeTransaction(repo.db, () => {
      dropDeadClaims(repo.db);
      const p = decide();
      if (p.deleted.length === 0) return p;
      // Rows first, in this transaction: a crash before the unlinks leaves objects on disk
      // without rows (harmless), never rows naming deleted bytes.
      const digests = p.deleted.map((d) => d.digest);
      deleteObjectRows(repo.db, digests);
      claimObjects(repo.db, digests);
      appendEvent(
        repo.db,
        buildEvent({
          actor,
          host: hostName(),
          action: 'gc',
          model: null,
          version: null,
          from: null,
          to: null,
          reason: null,
          argv: opts.argv ?? [],
          data: { deleted: p.deleted.length, freedBytes: p.deleted.reduce((s, d) => s + d.size, 0), objects: digests, thinnedVersions: p.thinned },
        }),
      );
      return p;
    });
    if (plan.deleted.length) {
      barrier('gc-before-unlink');
      try {
        for (const d of plan.deleted) repo.store.removeObject(d.digest);
      } finally {
        writeTransaction(repo.db, () => releaseClaims(repo.db));
      }
    }
  }
  return {
    dryRun: !!opts.dryRun,
    deleted: plan.deleted,
    freedBytes: plan.deleted.reduce((s, d) => s + d.size, 0),
    keptObjects: plan.kept,
    keptInGrace: plan.keptInGrace,
    graceSeconds,
    thinnedVersions: plan.thinned,
    keptOld: plan.keptOld,
    tempFilesRemoved,
  };
}

/**
 * What gc would delete now: every object on disk that no version keeps (all of a version's
 * objects are kept unless keepLast thins it), that no manifest on disk without an index
 * row names (the index may be behind the store), and that is older than the grace period.
 */
function planCollection(repo: Repository, keepLast: number | undefined, graceMs: number): GcPlan {
  const needed = neededByUnindexedManifests(repo);
  const candidates: { ref: string; id: string }[] = [];
  const keptOld: GcPlan['keptOld'] = [];
  let rank = 0;
  let lastModel = -1;
  const rows = gcVersionRows(repo.db);
  for (const v of rows) {
    rank = v.modelId === lastModel ? rank + 1 : 0;
    lastModel = v.modelId;
    if (keepLast !== undefined && rank >= keepLast) {
      if (!v.tagged && !v.staged && v.onRemote) {
        candidates.push({ ref: `${v.model}@v${v.number}`, id: v.id });
        continue;
      }
      const why: GcResult['keptOld'][number]['why'] = [];
      if (v.tagged) why.push('tagged');
      if (v.staged) why.push('staged');
      if (!v.onRemote) why.push('on no remote');
      keptOld.push({ ref: `${v.model}@v${v.number}`, id: v.id, why });
    }
    for (const d of versionDigests(repo.db, v.id)) needed.add(d);
  }
  const now = Date.now();
  const deleted: GcPlan['deleted'] = [];
  let kept = 0;
  let keptInGrace = 0;
  for (const digest of repo.store.listObjects()) {
    if (needed.has(digest)) {
      kept++;
      continue;
    }
    let st;
    try {
      st = statSync(repo.store.objectPath(digest));
    } catch (err) {
      if (isErrnoException(err, 'ENOENT')) continue; // another gc took it
      throw err;
    }
    if (now - st.mtimeMs < graceMs) {
      kept++;
      keptInGrace++;
      continue;
    }
    deleted.push({ digest, size: st.size });
  }
  // Thinned: a version some of whose bytes go now. One whose bytes are all kept (younger
  // than the grace period, or shared with a version that stays) is not thinned by this run,
  // and a plain gc later keeps them: it is listed as kept, not as thinned.
  const going = new Set(deleted.map((d) => d.digest));
  const thinned: string[] = [];
  for (const c of candidates) {
    if (versionDigests(repo.db, c.id).some((d) => going.has(d))) thinned.push(c.id);
    else if (versionDigests(repo.db, c.id).some((d) => repo.store.hasObject(d))) keptOld.push({ ...c, why: ['bytes kept'] });
  }
  const order = new Map(rows.map((v, i) => [v.id, i]));
  keptOld.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { deleted, kept, keptInGrace, thinned, keptOld };
}

/**
 * Objects named by manifests on disk that the index has no version for. A damaged or lost
 * index (a restored `index.db` without its WAL) must not turn committed versions into
 * garbage: their manifests are the proof they exist. A manifest that does not parse keeps
 * every digest-shaped string in it.
 */
function neededByUnindexedManifests(repo: Repository): Set<string> {
  const needed = new Set<string>();
  const indexed = indexedVersionIds(repo.db);
  for (const id of repo.store.listManifests()) {
    if (indexed.has(id)) continue;
    const bytes = repo.store.readManifestBytes(id);
    if (!bytes) continue;
    try {
      for (const f of parseManifest(bytes, id).files) needed.add(f.digest);
    } catch {
      for (const m of bytes.toString('latin1').matchAll(/[0-9a-f]{64}/g)) needed.add(m[0]);
    }
  }
  return needed;
}
