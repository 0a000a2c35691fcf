import { existsSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { dirname, sep } from 'node:path';

/**
 * The folders a command is about to make for `dir` (what mkdir -p would create), noted before
 * it makes them, so that a command that fails can leave none of them behind (README: a pull
 * that fails for anything but the network leaves no folder; a serve or watch that cannot
 * start leaves no cache).
 */
export interface MadeFolders {
  /** True when `dir` did not exist when noted. */
  readonly made: boolean;
  /** Removes `dir` with everything in it, then each parent made for it that is empty — when `dir` was made. */
  remove(): void;
}

/** Notes which folders of `dir` do not exist yet. Call before creating it. */
export function noteFoldersToMake(dir: string): MadeFolders {
  const first = firstMissingFolder(dir);
  return {
    made: first !== null,
    remove() {
      if (first === null) return;
      rmSync(dir, { recursive: true, force: true });
      pruneEmptyFolders(dirname(dir), dirname(first));
    },
  };
}

/** The outermost folder of `dir` that does not exist yet (what mkdir -p would make first), or null. */
function firstMissingFolder(dir: string): string | null {
  let missing: string | null = null;
  let d = dir;
  for (; !existsSync(d); d = dirname(d)) {
    missing = d;
    if (dirname(d) === d) break;
  }
  // Under a file (`pull --out model/x`, model a file) mkdir -p makes nothing, and removing
  // would only fail (ENOTDIR) over the error that matters.
  if (missing !== null && existsSync(d) && !statSync(d).isDirectory()) return null;
  return missing;
}

/** Removes `dir` and its parents while they are empty, up to but not including `root`. */
export function pruneEmptyFolders(dir: string, root: string): void {
  let d = dir;
  while (d !== root && d.startsWith(root + sep)) {
    try {
      if (readdirSync(d).length > 0) return;
      rmdirSync(d);
    } catch {
      return;
    }
    d = dirname(d);
  }
}
