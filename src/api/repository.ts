import { join, resolve } from 'node:path';
import { ObjectStore } from '../store/objects.js';
import { openIndex, type Database } from '../store/index-db.js';
import { findRepo } from '../workspace/repo-paths.js';
import { loadSettings, type Settings } from '../workspace/config.js';

/** Options every api function accepts. */
export interface CommonOptions {
  /** Folder to act in (the CLI's -C); defaults to process.cwd(). */
  cwd?: string;
  /** Environment to read MODELCTL_* and CI variables from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** An open repository: its folders, store, index and effective settings. */
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
  } finally {
    repo.close();
  }
}
