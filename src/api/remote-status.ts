import { NotFoundError } from '../errors.js';
import { storeSessionOf, withRemoteSession } from '../sync/remote-session.js';
import { remoteStatusOf, type RemoteStatus } from '../sync/remote-status.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { ModelRemoteStatus, RemoteStatus } from '../sync/remote-status.js';

export interface RemoteStatusOptions extends CommonOptions {
  /** A configured remote's name, or a URL; default: every configured remote. */
  name?: string;
  /** With a URL: the S3-compatible endpoint and region (as on every command that takes a URL remote). */
  endpoint?: string;
  region?: string;
}

/** What `remote status` found. The --json shape. */
export interface RemoteStatusResult {
  /** `registry`: false when the remote holds no registry yet (no MODELCTL.json): a new mirror, or a mistyped URL. */
  remotes: (RemoteStatus & { name: string; registry: boolean })[];
}

/**
 * Compares the local index with each remote as it is now, read-only on both sides: per
 * model, the versions a remote lacks, the tags and stages that differ (here vs there) and
 * the events not published there (docs/design.md §7). No remote configured → NotFoundError (3).
 * A remote that holds no registry yet (a new mirror, or a mistyped URL) is compared as
 * empty and marked `registry: false`, so the report says so instead of only "all missing".
 */
export async function remoteStatus(opts: RemoteStatusOptions = {}): Promise<RemoteStatusResult> {
  return withRepository(opts, async (repo) => {
    const names = opts.name ? [opts.name] : Object.keys(repo.settings.remotes).sort();
    if (names.length === 0) {
      throw new NotFoundError('NO_REMOTE', 'no remote is configured', { hint: 'add one with `modelctl remote add origin s3://bucket/prefix --default`' });
    }
    const remotes: RemoteStatusResult['remotes'] = [];
    const target = (remote: string) => ({ remote, endpoint: opts.endpoint, region: opts.region });
    const mode = { create: false, emptyOk: true };
    for (const name of names) {
      remotes.push(
        await withRemoteSession(repo, target(name), mode, async (s) => {
          const session = storeSessionOf(s, '`remote status`');
          return { name, registry: session.unmarked !== true, ...(await remoteStatusOf(repo, session)) };
        }),
      );
    }
    return { remotes };
  });
}
