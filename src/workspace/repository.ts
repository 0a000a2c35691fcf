import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ObjectStore } from '../store/objects.js';
import { openIndex, type Database } from '../store/index-db.js';
import { META_DIR_NAME, findRepo } from './repo-paths.js';
import { loadSettings, resolveSettings, type Settings } from './config.js';
import { NotFoundError } from '../errors.js';

/** Options every api function accepts. */
export interface CommonOptions {
  /** Folder to act in (the CLI's -C); defaults to process.cwd(). */
  cwd?: string;
  /** Environment to read MODELCTL_* and CI variables from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * An open repository: its folders, store, index and effective settings. It lives below
 * api/ so that the sync layer (docs/design.md §7) and the api verbs act on the same one.
 */
export interface Repository {
  root: string;
  metaDir: string;
  cwd: string;
  store: ObjectStore;
  db: Database;
  settings: Settings;
  env: NodeJS.ProcessEnv;
  close(): void;
}

/**
 * Opens the repository containing opts.cwd; throws NotFoundError (3) when there is none.
 * Async because checking the settings may need to load their validator (workspace/config.ts).
 */
export async function openRepository(opts: CommonOptions = {}): Promise<Repository> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const { root, metaDir } = findRepo(cwd, env);
  const settings = await loadSettings(root, metaDir, env);
  const db = openIndex(join(metaDir, 'index.db'));
  const store = new ObjectStore(metaDir);
  return { root, metaDir, cwd, store, db, settings, env, close: () => db.close() };
}

/** Runs `fn` with an open repository and always closes it. */
export async function withRepository<T>(opts: CommonOptions, fn: (repo: Repository) => Promise<T> | T): Promise<T> {
  const repo = await openRepository(opts);
  try {
    return await fn(repo);
  } catch (err) {
    throw withFetchHint(repo, err);
  } finally {
    repo.close();
  }
}

/**
 * A model modelctl.json declares but this index has never seen, in a repository with a
 * remote, is most often one the team pushed that this clone has not fetched yet: the hint
 * says so (`modelctl ls` would list nothing).
 */
function withFetchHint(repo: Repository, err: unknown): unknown {
  if (!(err instanceof NotFoundError) || err.code !== 'UNKNOWN_MODEL' || !repo.settings.defaultRemote) return err;
  const model = err.data?.model;
  const near = err.data?.candidates;
  if (typeof model !== 'string' || !repo.settings.models[model] || (Array.isArray(near) && near.length)) return err;
  return new NotFoundError(err.code, `${err.message} here yet (modelctl.json declares it)`, {
    hint: `bring the versions pushed to ${repo.settings.defaultRemote}: \`modelctl fetch\` (or \`modelctl pull ${model}@latest\`)`,
    data: err.data,
    cause: err,
  });
}

/**
 * Creates (or reopens) a bare store and index in `metaDir` with default settings and no
 * settings files: what a repository-less pull or a read of a remote works in. The caller
 * removes the folder when done.
 */
export function openScratchRepository(metaDir: string, opts: CommonOptions = {}): Repository {
  const env = opts.env ?? process.env;
  const store = new ObjectStore(metaDir);
  store.ensureLayout();
  const db = openIndex(join(metaDir, 'index.db'), { create: true });
  // No settings files: defaults only (MODELCTL_REMOTE still names the remote).
  const settings = resolveSettings({}, {}, env);
  const cwd = resolve(opts.cwd ?? process.cwd());
  return { root: cwd, metaDir, cwd, store, db, settings, env, close: () => db.close() };
}

/**
 * Runs `fn` on a scratch repository in `metaDir` and removes it afterwards (after a failure,
 * with the folders made to hold it) — unless `fn` failed in a way for which running again can
 * finish the job (`keepAfter(err)`): then the folder stays as the resume point.
 */
export async function withScratchRepository<T>(metaDir: string, opts: CommonOptions, keepAfter: (err: unknown) => boolean, fn: (repo: Repository) => Promise<T>): Promise<T> {
  const firstMade = firstMissingFolder(metaDir);
  mkdirSync(metaDir, { recursive: true });
  const repo = openScratchRepository(metaDir, opts);
  let failed = false;
  let keep = false;
  try {
    return await fn(repo);
  } catch (err) {
    failed = true;
    keep = keepAfter(err);
    throw err;
  } finally {
    repo.close();
    if (!keep) rmSync(metaDir, { recursive: true, force: true });
    // A failure leaves none of the folders made for it (a pull's --out included).
    if (failed && !keep && firstMade) removeEmptyFolders(dirname(metaDir), firstMade);
  }
}

/** The outermost folder of `dir` that does not exist yet (what mkdir -p would make first), or null. */
function firstMissingFolder(dir: string): string | null {
  let missing: string | null = null;
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing = d;
    if (dirname(d) === d) break;
  }
  return missing;
}

/** Removes `dir` and its parents up to `top` (included) while they are empty. */
function removeEmptyFolders(dir: string, top: string): void {
  for (let d = dir; d.startsWith(top); d = dirname(d)) {
    try {
      if (readdirSync(d).length > 0) return;
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === top) return;
  }
}

/**
 * Runs `fn` on a scratch repository in a fresh temp folder that is removed afterwards,
 * whatever happens: reading a remote this way leaves nothing behind.
 */
export async function withTemporaryRepository<T>(opts: CommonOptions, fn: (repo: Repository) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'modelctl-read-'));
  try {
    const metaDir = join(dir, META_DIR_NAME);
    mkdirSync(metaDir);
    const repo = openScratchRepository(metaDir, opts);
    try {
      return await fn(repo);
    } finally {
      repo.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
