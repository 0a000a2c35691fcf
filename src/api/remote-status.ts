import { InterruptedError, ModelctlError, NotFoundError, type ExitCodeValue } from '../errors.js';
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
  /**
   * With no name (every configured remote): the remotes that could not be read (unreachable,
   * no credentials, an oci:// remote), each with its error. One bad remote does not hide the
   * others' report; the CLI then exits with the first one's code (README, `remote status`).
   */
  failed: { name: string; remote: string; error: { code: string; message: string; hint?: string; exitCode: ExitCodeValue } }[];
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
    const failed: RemoteStatusResult['failed'] = [];
    const target = (remote: string) => ({ remote, endpoint: opts.endpoint, region: opts.region });
    const mode = { create: false, emptyOk: true };
    for (const name of names) {
      try {
        remotes.push(
          await withRemoteSession(repo, target(name), mode, async (s) => {
            const session = storeSessionOf(s, '`remote status`');
            return { name, registry: session.unmarked !== true, ...(await remoteStatusOf(repo, session)) };
          }),
        );
      } catch (e) {
        // A remote asked for by name fails the command as before; in the report of every
        // remote, a remote's own failure is its line, and Ctrl-C or a bug still stop it all.
        if (opts.name || !(e instanceof ModelctlError) || e instanceof InterruptedError) throw e;
        const url = repo.settings.remotes[name]?.url ?? name;
        failed.push({ name, remote: url, error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), exitCode: e.exitCode } });
      }
    }
    return { remotes, failed };
  });
}
