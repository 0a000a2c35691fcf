import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { tryLockFolder, type FolderLock, type FolderLockOwner } from '../store/folder-lock.js';
import { ObjectStore } from '../store/objects.js';
import { openIndex, type Database } from '../store/index-db.js';
import { META_DIR_NAME, findRepo } from './repo-paths.js';
import { loadSettings, resolveSettings, type Settings } from './config.js';
import { NotFoundError, fsError } from '../errors.js';
import { noteFoldersToMake, type MadeFolders } from './made-folders.js';

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
export function openScratchRepository(metaDir: string, opts: CommonOptions & { durable?: boolean } = {}): Repository {
  const env = opts.env ?? process.env;
  const durable = opts.durable ?? true;
  const store = new ObjectStore(metaDir, { durable });
  store.ensureLayout();
  const db = openIndex(join(metaDir, 'index.db'), { create: true, durable });
  // No settings files: defaults only (MODELCTL_REMOTE still names the remote).
  const settings = resolveSettings({}, {}, env);
  const cwd = resolve(opts.cwd ?? process.cwd());
  return { root: cwd, metaDir, cwd, store, db, settings, env, close: () => db.close() };
}

/** How a scratch store that is also a resume point (a repository-less pull's) is kept and shared. */
export interface ScratchPolicy {
  /** Whether running again after `err` can finish the job with what the store holds now: then it stays. */
  keepAfter(err: unknown, store: ObjectStore): boolean;
  /** The error for a store another process is filling (it holds the lock). */
  busy(heldBy: FolderLockOwner | null): Error;
}

/** The lock file inside a scratch store: one process fills it at a time. */
const SCRATCH_LOCK = 'scratch.lock';

/**
 * Runs `fn` on a scratch repository in `metaDir` and removes it afterwards (after a failure,
 * with the folders made to hold it) — unless `fn` failed in a way for which running again can
 * finish the job (`policy.keepAfter`): then the folder stays as the resume point. While `fn`
 * runs the store is locked: a second process is refused (`policy.busy`) and touches nothing,
 * instead of finding objects vanish under it.
 */
export async function withScratchRepository<T>(metaDir: string, opts: CommonOptions, policy: ScratchPolicy, fn: (repo: Repository) => Promise<T>): Promise<T> {
  const folders = noteFoldersToMake(metaDir);
  const held = lockScratchStore(metaDir, folders);
  // Another process's store (even one it made a moment ago): left alone.
  if ('heldBy' in held) throw policy.busy(held.heldBy);
  const lock = held;
  let repo: Repository;
  try {
    // Throwaway: no fsyncs (docs/design.md §5, "Throwaway stores").
    repo = openScratchRepository(metaDir, { ...opts, durable: false });
  } catch (err) {
    folders.remove();
    lock.release();
    throw err;
  }
  let failed = false;
  let keep = false;
  try {
    return await fn(repo);
  } catch (err) {
    failed = true;
    keep = policy.keepAfter(err, repo.store);
    throw err;
  } finally {
    repo.close();
    // Removed while still locked, so no other process starts filling what is being removed.
    if (!keep) rmSync(metaDir, { recursive: true, force: true });
    // A failure leaves none of the folders made for it (a pull's --out included).
    if (failed && !keep) folders.remove();
    lock.release();
  }
}

/**
 * Creates `metaDir` and locks it, or says who holds the lock (a failure leaves none of
 * `folders`). A lock taken on a file that a finishing process removed meanwhile (it holds the
 * lock while removing the store) guards nothing: taken again.
 */
function lockScratchStore(metaDir: string, folders: MadeFolders): FolderLock | { heldBy: FolderLockOwner | null } {
  for (;;) {
    let held: ReturnType<typeof tryLockFolder>;
    let made = false;
    try {
      mkdirSync(metaDir, { recursive: true });
      made = true;
      held = tryLockFolder(metaDir, SCRATCH_LOCK);
    } catch (err) {
      if (made && !existsSync(metaDir)) continue; // removed between the mkdir and the lock
      folders.remove();
      // A file where the folder must be (`pull --out a-file`) is NOT_A_FOLDER (4) naming the
      // folder asked for, as a pull inside a repository says; not an unexpected failure.
      throw fsError(err, dirname(metaDir));
    }
    if (!held.lock) return { heldBy: held.heldBy };
    if (existsSync(join(metaDir, SCRATCH_LOCK))) return held.lock;
    held.lock.release();
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
    // Removed whatever happens: nothing in it is worth an fsync (docs/design.md §5).
    const repo = openScratchRepository(metaDir, { ...opts, durable: false });
    try {
      return await fn(repo);
    } finally {
      repo.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
