import { gcGraceSeconds } from '../store/gc-grace.js';
import { statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { buildEvent } from '../core/events.js';
import { appendEvent } from '../store/events-table.js';
import { writeTransaction } from '../store/index-db.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import { withRepository, type CommonOptions } from './repository.js';

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
  return withRepository(opts, async (repo) => {
    const needed = new Set<string>();
    const thinned: string[] = [];
    const versions = repo.db
      .prepare(
        `SELECT v.id, v.model_id AS modelId, v.number,
           EXISTS (SELECT 1 FROM tags t WHERE t.version_id = v.id) AS tagged,
           EXISTS (SELECT 1 FROM stages s WHERE s.version_id = v.id) AS staged,
           EXISTS (SELECT 1 FROM remote_versions r WHERE r.version_id = v.id) AS pushed
         FROM versions v ORDER BY v.model_id, v.number DESC`,
      )
      .all() as { id: string; modelId: number; number: number; tagged: number; staged: number; pushed: number }[];
    const filesOf = repo.db.prepare('SELECT digest FROM files WHERE version_id = ?');
    let rank = 0;
    let lastModel = -1;
    for (const v of versions) {
      rank = v.modelId === lastModel ? rank + 1 : 0;
      lastModel = v.modelId;
      const droppable = opts.keepLast !== undefined && rank >= opts.keepLast && !v.tagged && !v.staged && v.pushed;
      if (droppable) {
        thinned.push(v.id);
        continue;
      }
      for (const r of filesOf.all(v.id) as { digest: string }[]) needed.add(r.digest);
    }
    const now = Date.now();
    const graceSeconds = gcGraceSeconds(repo.env);
    const graceMs = 1000 * graceSeconds;
    let keptInGrace = 0;
    const deleted: GcResult['deleted'] = [];
    let kept = 0;
    for (const digest of repo.store.listObjects()) {
      if (needed.has(digest)) {
        kept++;
        continue;
      }
      const st = statSync(repo.store.objectPath(digest));
      if (now - st.mtimeMs < graceMs) {
        kept++;
        keptInGrace++;
        continue;
      }
      deleted.push({ digest, size: st.size });
    }
    const tempFilesRemoved = opts.dryRun ? 0 : repo.store.sweepTemp();
    if (!opts.dryRun && deleted.length) {
      // Index first: a crash between the two leaves objects on disk without rows (harmless),
      // never rows pointing at deleted objects.
      const actor = await resolveActor(repo.root);
      writeTransaction(repo.db, () => {
        const del = repo.db.prepare('DELETE FROM objects WHERE digest = ?');
        for (const d of deleted) del.run(d.digest);
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
            data: { deleted: deleted.length, freedBytes: deleted.reduce((s, d) => s + d.size, 0), objects: deleted.map((d) => d.digest), thinnedVersions: thinned },
          }),
        );
      });
      for (const d of deleted) repo.store.removeObject(d.digest);
    }
    return {
      dryRun: !!opts.dryRun,
      deleted,
      freedBytes: deleted.reduce((s, d) => s + d.size, 0),
      keptObjects: kept,
      keptInGrace,
      graceSeconds,
      thinnedVersions: thinned,
      tempFilesRemoved,
    };
  });
}
