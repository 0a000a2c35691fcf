import type { FetchResult } from '../sync/fetch.js';
import { versionFiles } from '../store/version-records.js';
import type { Repository } from './repository.js';

/**
 * A fetched version whose files are all here already (a teammate's version that shares this
 * clone's bytes) gets its tensor summaries now, as a pull would record them, so `show` and
 * `ls` give its parameters. Versions lacking bytes get theirs when they are pulled.
 */
export async function summarizeLocalVersions(repo: Repository, result: FetchResult): Promise<void> {
  const local = result.models
    .flatMap((m) => m.newVersions)
    .map((v) => ({ id: v.id, files: versionFiles(repo.db, v.id) }))
    .filter((v) => v.files.length > 0 && v.files.every((f) => repo.store.hasObject(f.digest)));
  if (local.length === 0) return;
  const { ensureTensorSummaries } = await import('./tensor-summary-step.js'); // the header readers, only when there is something to read
  for (const v of local) ensureTensorSummaries(repo, v.id, v.files);
}
