import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { IntegrityError, NotFoundError } from '../errors.js';

/** The folder name of a repository's private state. */
export const META_DIR_NAME = '.modelctl';

export interface RepoPaths {
  /** The working folder: recorded file paths are relative to it. */
  root: string;
  /** `.modelctl/` (or MODELCTL_DIR). */
  metaDir: string;
}

/**
 * Finds the repository containing `cwd`, walking up like git. MODELCTL_DIR, when set,
 * names the metadata folder directly (its parent is the root). Throws NotFoundError (3).
 */
export function findRepo(cwd: string, env: NodeJS.ProcessEnv = process.env): RepoPaths {
  if (env.MODELCTL_DIR) {
    const metaDir = isAbsolute(env.MODELCTL_DIR) ? env.MODELCTL_DIR : resolve(cwd, env.MODELCTL_DIR);
    if (!isDir(metaDir)) throw notARepo(cwd);
    return { root: dirname(metaDir), metaDir };
  }
  let dir = resolve(cwd);
  for (;;) {
    const meta = join(dir, META_DIR_NAME);
    if (isDir(meta)) {
      if (existsSync(join(meta, 'index.db'))) return { root: dir, metaDir: meta };
      if (holdsStore(meta)) throw indexLost(meta, cwd);
    }
    const up = dirname(dir);
    if (up === dir) throw notARepo(cwd);
    dir = up;
  }
}

/** True when `cwd` is inside a repository (findRepo would succeed). */
export function isInRepository(cwd: string, env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    findRepo(cwd, env);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/** The error of a command that needs a repository in `cwd`; names a fresh clone's modelctl.json and the fix. */
export function notARepo(cwd: string): NotFoundError {
  // A fresh `git clone` of a project brings modelctl.json but not .modelctl/ (ignored, never
  // committed): say that init creates the local store next to it, and fetch brings the versions.
  const shared = sharedSettingsAbove(cwd);
  return new NotFoundError('NOT_A_REPOSITORY', `not a modelctl repository (or any parent up to /): ${cwd}${shared ? ` — ${shared} has modelctl.json but no .modelctl/ (a fresh clone?)` : ''}`, {
    hint: shared ? `create the local store with \`modelctl init\`${shared === resolve(cwd) ? '' : ` in ${shared}`} (modelctl.json is kept), then \`modelctl fetch\` to see the versions pushed` : 'create one with `modelctl init`, or pass -C <dir>',
  });
}

/**
 * A `.modelctl/` whose index.db was deleted still holds versions: manifests, or the ref
 * journal. Called only when index.db is missing; a folder an interrupted first `init` left
 * holds neither.
 */
export function holdsStore(meta: string): boolean {
  try {
    if (statSync(join(meta, 'journal.jsonl')).size > 0) return true;
  } catch {
    // no journal
  }
  try {
    return readdirSync(join(meta, 'manifests')).length > 0;
  } catch {
    return false;
  }
}

/**
 * IntegrityError (6) `INDEX_MISSING`: the store is here but its index is gone. Not "not a
 * repository" — `init` would then start an empty index beside the versions (README,
 * "No acknowledged version is lost"); `verify --rebuild-index` rebuilds it from them.
 */
export function indexLost(meta: string, cwd: string): IntegrityError {
  return new IntegrityError('INDEX_MISSING', `${meta} holds a store but no index.db: the index was deleted or lost`, {
    hint: `rebuild it from the store and its journal with \`modelctl verify --rebuild-index\`${dirname(meta) === resolve(cwd) ? '' : ` in ${dirname(meta)}`}`,
    data: { metaDir: meta },
  });
}

/** The nearest folder at or above `cwd` holding modelctl.json, or null. */
export function sharedSettingsAbove(cwd: string): string | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'modelctl.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
