import { assertModelName } from '../core/names.js';
import { commitVersion, type CommitRequest, type CommitResult } from './commit-engine.js';
import { assertLockReadable, updateLock } from './lock-update.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { CommitResult } from './commit-engine.js';

export interface CommitOptions extends CommonOptions, CommitRequest {
  /** Record the version in modelctl.lock (default: the `lock` setting). */
  lock?: boolean;
}

/**
 * Snapshots files into a new version of `model`: objects are stored first (each atomically),
 * then the manifest, then one index transaction adds the version, its number, tag and commit
 * event. Identical files and lineage to the latest version create nothing.
 */
export async function commit(opts: CommitOptions): Promise<CommitResult> {
  assertModelName(opts.model);
  return withRepository(opts, async (repo) => {
    assertLockReadable(repo, opts.lock);
    const result = await commitVersion(repo, opts);
    return { ...result, lock: updateLock(repo, opts.lock, [result.version.id]) };
  });
}
