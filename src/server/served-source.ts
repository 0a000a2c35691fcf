import { NotFoundError } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import { openRepository, type Repository } from '../api/repository.js';
import { defaultRemoteFetcher } from '../api/remote-cache.js';

/**
 * What `modelctl serve` reads from (docs/design.md §12): a repository, or a remote read
 * through a local cache repository. Either way the API reads one open repository; a remote
 * source also keeps it up to date and fetches file bytes on demand.
 */
export interface ServedSource {
  mode: 'repository' | 'remote';
  /** The folder api verbs act in (the repository, or the cache). */
  cwd: string;
  /** The repository, held open for the hot paths. */
  repo: Repository;
  /** The remote as it may be shown (credentials stripped), or null. */
  remote: string | null;
  /** How often the remote is polled (remote mode), in ms; null otherwise. */
  remotePollMs: number | null;
  /**
   * Makes the objects of `files` present in the store: already there, or (remote mode)
   * downloaded and verified now. Missing and not obtainable → NotFoundError (3).
   */
  ensureObjects(files: readonly ManifestFile[], ref: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the repository containing `cwd` (NotFoundError (3) when there is none). Files whose
 * bytes the store lacks (versions fetched but not pulled) are downloaded from the default
 * remote on first request, verified as pull verifies them; with no default remote they are
 * NotFoundError (3) naming `modelctl pull`.
 */
export async function repositorySource(cwd: string, env: NodeJS.ProcessEnv): Promise<ServedSource> {
  const repo = await openRepository({ cwd, env });
  const fromRemote = defaultRemoteFetcher(repo);
  return {
    mode: 'repository',
    cwd: repo.root,
    repo,
    remote: null,
    remotePollMs: null,
    async ensureObjects(files, ref) {
      const missing = files.filter((f) => !repo.store.hasObject(f.digest));
      if (missing.length === 0) return;
      if ((await fromRemote.ensureObjects(missing)) === null) {
        throw new NotFoundError('OBJECT_NOT_LOCAL', `${missing.length} file(s) of ${ref} are not in this repository's store (${missing[0].path}${missing.length > 1 ? ', …' : ''})`, {
          hint: `bring the bytes with \`modelctl pull ${ref}\`, add a default remote to fetch them on demand, or serve the remote with \`modelctl serve --remote <name|url>\``,
        });
      }
    },
    async close() {
      await fromRemote.close();
      repo.close();
    },
  };
}
