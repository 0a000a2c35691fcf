import type { FetchResult } from '../sync/fetch.js';
import { hasAllObjectRows, versionFiles } from '../store/version-records.js';
import type { Repository } from './repository.js';

/**
 * A fetched version whose files are all here already (a teammate's version that shares this
 * clone's bytes) gets its tensor summaries now, as a pull would record them, so `show` and
 * `ls` give its parameters. Versions lacking bytes get theirs when they are pulled.
 */
export async function summarizeLocalVersions(repo: Repository, result: FetchResult): Promise<void> {
  // The index answers first (a fetch of thousands of versions whose bytes are elsewhere
  // reads no file list and stats nothing); the few left are checked on disk.
  const local = result.models
    .flatMap((m) => m.newVersions)
    .filter((v) => hasAllObjectRows(repo.db, v.id))
    .map((v) => ({ id: v.id, files: versionFiles(repo.db, v.id) }))
    .filter((v) => v.files.every((f) => repo.store.hasObject(f.digest)));
  if (local.length === 0) return;
  const { ensureTensorSummaries } = await import('./tensor-summary-step.js'); // the header readers, only when there is something to read
  for (const v of local) ensureTensorSummaries(repo, v.id, v.files);
}
