import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveRemoteSpec, startRemoteCache } from '../api/remote-cache.js';
import type { ServedSource } from './served-source.js';

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
}

/**
 * Serves a remote through a local cache repository (docs/design.md §12), the way a
 * repository-less `pull` works: metadata is fetched at start (an unreachable remote is an
 * error then: exit 7, leaving no cache folder this start made) and every `pollMs` after
 * (failures are logged, the cache keeps serving); file bytes are downloaded on first
 * request, verified chunk by chunk, and kept.
 */
export async function remoteSource(opts: RemoteSourceOptions): Promise<ServedSource> {
  const cacheDir = opts.cache ?? defaultCacheDir(opts.env, (await resolveRemoteSpec(opts.cwd, opts.remote, opts.env)).key);
  const cache = await startRemoteCache({ cwd: opts.cwd, remote: opts.remote, cacheDir, env: opts.env });
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return; // a slow fetch is not started twice
    polling = true;
    cache
      .refresh()
      .catch((err: unknown) => opts.log(`fetch from ${cache.displayUrl} failed (the cache keeps serving; next try in ${opts.pollMs / 1000}s): ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        polling = false;
      });
  }, opts.pollMs);
  timer.unref();
  return {
    mode: 'remote',
    cwd: cache.repo.root,
    repo: cache.repo,
    remote: cache.displayUrl,
    remotePollMs: opts.pollMs,
    async ensureObjects(files) {
      await cache.ensureObjects(files);
    },
    async close() {
      clearInterval(timer);
      await cache.close();
    },
  };
}

/** One cache folder per remote under $XDG_CACHE_HOME (or ~/.cache)/modelctl/serve/. */
function defaultCacheDir(env: NodeJS.ProcessEnv, remoteKey: string): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'modelctl', 'serve', createHash('sha256').update(remoteKey).digest('hex').slice(0, 16));
}
