import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { NotFoundError } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import { redactUrl } from '../core/redact.js';
import { init } from '../api/init.js';
import { openRepository } from '../api/repository.js';
import { downloadObjects } from '../api/download-objects.js';
import { fetchInto } from '../api/fetch.js';
import { chooseRemote, openRemoteSession } from '../api/remote-session.js';
import { loadSettings } from '../workspace/config.js';
import { findRepo } from '../workspace/repo-paths.js';
import type { ServedSource } from './served-source.js';

/** Requests in flight when the cache fetches metadata or downloads a file. */
const JOBS = 8;

export interface RemoteSourceOptions {
  /** Where the command runs: a repository here lends its remote settings (endpoint, region). */
  cwd: string;
  /** A configured remote's name or a URL. */
  remote: string;
  /** The cache folder (default: under $XDG_CACHE_HOME or ~/.cache, one per remote). */
  cache?: string;
  /** How often the remote is fetched again. */
  pollMs: number;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Called after every poll that brought something in (the change stream looks at once). */
  onFetched?: () => void;
}

/**
 * Serves a remote through a local cache repository (docs/design.md §12), the way a
 * repository-less `pull` works: metadata is fetched at start (an unreachable remote is an
 * error then: exit 7) and every `pollMs` after (failures are logged, the cache keeps
 * serving); file bytes are downloaded on first request, verified chunk by chunk, and kept.
 */
export async function remoteSource(opts: RemoteSourceOptions): Promise<ServedSource> {
  // The cache is its own repository: MODELCTL_DIR names the user's, never this one.
  const { MODELCTL_DIR: _ignored, ...env } = opts.env;
  let settings = null;
  try {
    const outer = findRepo(opts.cwd, opts.env);
    settings = loadSettings(outer.root, outer.metaDir, opts.env);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  const { spec } = chooseRemote(settings, opts.remote, opts.env);
  const remoteKey = `${redactUrl(spec.url)} ${spec.endpoint ?? ''}`;
  const cache = resolve(opts.cwd, opts.cache ?? defaultCacheDir(env, remoteKey));
  mkdirSync(cache, { recursive: true });
  init({ cwd: cache, env });
  const repo = openRepository({ cwd: cache, env });
  let session;
  try {
    session = await openRemoteSession(settings, opts.cwd, opts.remote, { create: false, db: repo.db, env: opts.env });
    await fetchInto(repo, session, undefined, JOBS);
  } catch (err) {
    if (session) await session.remote.close();
    repo.close();
    throw err;
  }
  const open = session;

  let polling = false;
  const timer = setInterval(() => {
    if (polling) return; // a slow fetch is not started twice
    polling = true;
    fetchInto(repo, open, undefined, JOBS)
      .then(() => opts.onFetched?.())
      .catch((err: unknown) => opts.log(`fetch from ${open.displayUrl} failed (the cache keeps serving; next try in ${opts.pollMs / 1000}s): ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        polling = false;
      });
  }, opts.pollMs);
  timer.unref();

  // One download per object at a time: concurrent requests for the same file share it.
  const downloads = new Map<string, Promise<void>>();
  const fetchObject = (f: ManifestFile): Promise<void> => {
    let p = downloads.get(f.digest);
    if (!p) {
      p = downloadObjects(repo, open.remote, [f], JOBS)
        .then(() => undefined)
        .finally(() => downloads.delete(f.digest));
      downloads.set(f.digest, p);
    }
    return p;
  };

  return {
    mode: 'remote',
    cwd: cache,
    repo,
    remote: open.displayUrl,
    remotePollMs: opts.pollMs,
    async ensureObjects(files) {
      await Promise.all(files.filter((f) => !repo.store.hasObject(f.digest)).map(fetchObject));
    },
    async close() {
      clearInterval(timer);
      await Promise.allSettled(downloads.values());
      await open.remote.close();
      repo.close();
    },
  };
}

function defaultCacheDir(env: NodeJS.ProcessEnv, remoteKey: string): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'modelctl', 'serve', createHash('sha256').update(remoteKey).digest('hex').slice(0, 16));
}
