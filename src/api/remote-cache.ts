import { NotFoundError } from '../errors.js';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ManifestFile } from '../core/manifest.js';
import { redactUrl } from '../core/redact.js';
import { repositorySettings, type Settings } from '../workspace/config.js';
import { downloadObjects } from '../sync/download-objects.js';
import { assertStoreRemoteUrl, chooseRemote, openRemoteSession, storeSessionOf, type RemoteSession } from '../sync/remote-session.js';
import { noteFoldersToMake } from '../workspace/made-folders.js';
import { META_DIR_NAME } from '../workspace/repo-paths.js';
import { openScratchRepository, type Repository } from '../workspace/repository.js';

/** Requests in flight when a cache fetches metadata or downloads a file. */
const JOBS = 8;

/** A remote read through a private cache repository (what serve --remote and watch use). */
export interface RemoteCache {
  /** The cache repository: the remote's metadata as last fetched, and the bytes asked for so far. */
  repo: Repository;
  /** The remote as it may be shown (credentials stripped). */
  displayUrl: string;
  /** Brings the remote's versions, tags, stages and events (of one model, or all) into the cache. */
  refresh(model?: string): Promise<void>;
  /**
   * Makes the objects of `files` present in the cache, downloading what it lacks (each chunk and
   * file verified). Concurrent calls for the same object share one download. Returns the digests
   * downloaded (and so verified) by this call.
   */
  ensureObjects(files: readonly ManifestFile[]): Promise<Set<string>>;
  close(): Promise<void>;
}

/** Downloads of objects into one repository's store, shared by concurrent callers. */
export interface ObjectFetcher {
  /** Makes the objects of `files` present (see RemoteCache.ensureObjects); returns the digests downloaded now. */
  ensureObjects(files: readonly ManifestFile[]): Promise<Set<string>>;
  /** Resolves when no download is running. */
  settled(): Promise<void>;
}

/**
 * On-demand downloads from `session` into `repo`'s store through pull's verified path:
 * concurrent requests for the same object share one download (two would race on its
 * partial file).
 */
export function objectFetcher(repo: Repository, anySession: RemoteSession): ObjectFetcher {
  const session = storeSessionOf(anySession, 'serving or watching a remote');
  const downloads = new Map<string, Promise<boolean>>();
  const fetchObject = (f: ManifestFile): Promise<boolean> => {
    let p = downloads.get(f.digest);
    if (!p) {
      p = downloadObjects(repo, session.remote, [f], JOBS)
        .then((r) => r.verified.has(f.digest))
        .finally(() => downloads.delete(f.digest));
      downloads.set(f.digest, p);
    }
    return p;
  };
  return {
    async ensureObjects(files) {
      const wanted = [...new Map(files.filter((f) => !repo.store.hasObject(f.digest)).map((f) => [f.digest, f])).values()];
      const got = await Promise.all(wanted.map(async (f) => ((await fetchObject(f)) ? f.digest : null)));
      return new Set(got.filter((d): d is string => d !== null));
    },
    async settled() {
      await Promise.allSettled(downloads.values());
    },
  };
}

/**
 * On-demand downloads into an open repository from its default remote, opened lazily on the
 * first call that needs one (a failure to open is thrown and tried again next time). Null
 * `ensureObjects` result: the repository has no default remote.
 */
export function defaultRemoteFetcher(repo: Repository): { ensureObjects(files: readonly ManifestFile[]): Promise<Set<string> | null>; close(): Promise<void> } {
  let opened: Promise<{ session: RemoteSession; fetcher: ObjectFetcher } | null> | null = null;
  const open = () =>
    (opened ??= (async () => {
      if (!repo.settings.defaultRemote && !repo.env.MODELCTL_REMOTE) return null;
      const session = await openRemoteSession(repo.settings, repo.root, undefined, { create: false, db: repo.db, env: repo.env });
      return { session, fetcher: objectFetcher(repo, session) };
    })().catch((err: unknown) => {
      opened = null; // the remote may be back next time
      throw err;
    }));
  return {
    async ensureObjects(files) {
      const r = await open();
      return r ? r.fetcher.ensureObjects(files) : null;
    },
    async close() {
      const r = await opened?.catch(() => null);
      if (r) {
        await r.fetcher.settled();
        await r.session.protocol.close();
      }
    },
  };
}

/**
 * The remote settings `remote` (a configured name or a URL) names from `cwd`, and a key for it.
 * A URL that names no remote, or an OCI registry, is refused here (exit 2): serve and watch
 * call this before they make any folder for the remote.
 */
export async function resolveRemoteSpec(cwd: string, remote: string | undefined, env: NodeJS.ProcessEnv): Promise<{ settings: Settings | null; key: string }> {
  const settings = (await repositorySettings(cwd, env))?.settings ?? null;
  const { spec } = chooseRemote(settings, { remote }, env);
  assertStoreRemoteUrl(spec.url, cwd, 'serving or watching a remote');
  return { settings, key: `${redactUrl(spec.url)} ${spec.endpoint ?? ''}`.trim() };
}

/**
 * Opens the remote `remote` (a name configured in the repository around `cwd`, if any, or a
 * URL) through the cache repository in `cacheDir` (created when absent). Checks the remote's
 * marker; an unreachable remote is a RemoteError (7), an empty one NotFoundError (3).
 */
export async function openRemoteCache(opts: { cwd: string; remote: string | undefined; cacheDir: string; env: NodeJS.ProcessEnv }): Promise<RemoteCache> {
  // The cache is its own repository: MODELCTL_DIR names the user's, never this one.
  const { MODELCTL_DIR: _ignored, ...env } = opts.env;
  const { settings } = await resolveRemoteSpec(opts.cwd, opts.remote, opts.env);
  const cacheDir = resolve(opts.cwd, opts.cacheDir);
  mkdirSync(join(cacheDir, META_DIR_NAME), { recursive: true });
  const repo = openScratchRepository(join(cacheDir, META_DIR_NAME), { cwd: cacheDir, env });
  let session: RemoteSession;
  try {
    session = await openRemoteSession(settings, opts.cwd, { remote: opts.remote }, { create: false, db: repo.db, env: opts.env });
  } catch (err) {
    repo.close();
    throw err;
  }
  let fetcher: ObjectFetcher;
  try {
    fetcher = objectFetcher(repo, session);
  } catch (err) {
    await session.protocol.close();
    repo.close();
    throw err;
  }
  return {
    repo,
    displayUrl: session.displayUrl,
    async refresh(model) {
      try {
        await session.protocol.fetch(repo, { model, jobs: JOBS });
      } catch (err) {
        // `fetch <model>` of a model the remote lacks is UNKNOWN_MODEL (a typo, for a person);
        // for a cache it is a state: nothing to bring yet, and the reader's resolve says
        // which model a typo meant (watch waits for it).
        if (!(model !== undefined && err instanceof NotFoundError && err.code === 'UNKNOWN_MODEL')) throw err;
      }
    },
    ensureObjects: fetcher.ensureObjects,
    async close() {
      await fetcher.settled();
      await session.protocol.close();
      repo.close();
    },
  };
}

/**
 * Opens the cache (see openRemoteCache) and fetches the remote's metadata into it: a serve's
 * start. A start that fails leaves no cache folder it made (README, serve).
 */
export async function startRemoteCache(opts: { cwd: string; remote: string | undefined; cacheDir: string; env: NodeJS.ProcessEnv }): Promise<RemoteCache> {
  const folders = noteFoldersToMake(join(resolve(opts.cwd, opts.cacheDir), META_DIR_NAME));
  let cache: RemoteCache;
  try {
    cache = await openRemoteCache(opts);
  } catch (err) {
    folders.remove();
    throw err;
  }
  try {
    await cache.refresh();
  } catch (err) {
    await cache.close();
    folders.remove();
    throw err;
  }
  return cache;
}
