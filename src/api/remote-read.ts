import { redactUrl } from '../core/redact.js';
import { ModelctlError } from '../errors.js';
import { join } from 'node:path';
import { SHARED_CONFIG_FILE, readConfigFile, repositorySettings, resolveSettings, type Settings } from '../workspace/config.js';
import { sharedSettingsAbove } from '../workspace/repo-paths.js';
import type { RemoteTarget } from '../sync/remote-session.js';
import { withRepository, withTemporaryRepository, type CommonOptions, type Repository } from '../workspace/repository.js';

/** Options of a read that can look at a remote instead of the repository (`ls/log/show --remote`). */
export interface ReadTarget extends CommonOptions, RemoteTarget {}

/**
 * Runs `fn` on the repository around `opts.cwd`, or, with `opts.remote`, on a temporary
 * repository holding what that remote has (of `model`, or of every model), fetched now and
 * removed afterwards — no repository needed, and the user's index is not touched. A remote
 * named (not a URL) is looked up in the repository's settings, if there is one.
 */
export async function withReadRepository<T>(opts: ReadTarget, model: string | undefined, fn: (repo: Repository) => T | Promise<T>): Promise<T> {
  if (!opts.remote) return withRepository(opts, fn);
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  // A configured remote's relative path starts at its repository's root, as everywhere else.
  const outer = await repositorySettings(cwd, env);
  let settings: Settings | null = outer?.settings ?? null;
  let base = outer?.root ?? cwd;
  // A fresh clone (modelctl.json, no .modelctl/ yet): its remotes and stages still name what to read.
  const shared = outer ? null : sharedSettingsAbove(cwd);
  if (shared) {
    settings = resolveSettings(await readConfigFile(join(shared, SHARED_CONFIG_FILE)), {}, env);
    base = shared;
  }
  // The temporary repository is its own: MODELCTL_DIR names the user's.
  const { MODELCTL_DIR: _ignored, ...scratchEnv } = env;
  return withTemporaryRepository({ cwd, env: scratchEnv }, async (repo) => {
    if (settings) repo.settings = { ...repo.settings, stages: settings.stages };
    // Loaded only for --remote: log, ls and show of the repository start without the sync layer.
    const { openRemoteSession } = await import('../sync/remote-session.js');
    const { withRemoteModels } = await import('../sync/fetch.js');
    const session = await openRemoteSession(settings, base, opts, { create: false, db: repo.db, env });
    try {
      try {
        await session.protocol.fetch(repo, { model });
      } catch (err) {
        // The remote has no such model: the hint must name this remote with its --endpoint.
        throw withRemoteHint(err, opts, model);
      }
      try {
        return await fn(repo);
      } catch (err) {
        // Only the named model was fetched: a typo's "did you mean" asks the remote for its models.
        throw withRemoteHint(await withRemoteModels(session.displayUrl, err, () => session.protocol.modelNames()), opts, model);
      }
    } finally {
      await session.protocol.close();
    }
  });
}

/**
 * A reference that names nothing on the remote gets a hint that reads the remote too: the
 * one the index gave (`modelctl log fraud`) would look at a repository, maybe none here.
 */
function withRemoteHint(err: unknown, opts: ReadTarget, model: string | undefined): unknown {
  if (!(err instanceof ModelctlError) || !['UNKNOWN_MODEL', 'UNKNOWN_REF', 'NO_VERSIONS', 'AMBIGUOUS_REF'].includes(err.code)) return err;
  const target = [`--remote ${redactUrl(opts.remote!)}`, ...(opts.endpoint ? [`--endpoint ${redactUrl(opts.endpoint)}`] : [])].join(' ');
  const hint = model && err.code !== 'UNKNOWN_MODEL' ? `see the versions of ${model} there with \`modelctl log ${model} ${target}\`` : `see the models there with \`modelctl ls ${target}\``;
  return new ModelctlError(err.code, err.message, { exitCode: err.exitCode, hint, data: err.data, cause: err });
}
