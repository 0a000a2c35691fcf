import { join } from 'node:path';
import { getVersion } from '../store/version-records.js';
import { tryStatKey, type FileStatKey } from '../workspace/stat-cache.js';
import { LOCK_FILE_NAME, readLockFile } from '../workspace/lock-file.js';
import { hashWorkingFiles } from './file-hashing.js';
import type { Repository } from './repository.js';

/** One locked model compared with the workspace. */
export interface LockedModelStatus {
  model: string;
  version: string;
  number: number;
  /** False when this repository does not have the locked version (`modelctl checkout` fetches it). */
  known: boolean;
  /** True when every locked file is in the workspace with the locked content. */
  matches: boolean;
  /** Locked files whose content in the workspace differs. */
  modified: string[];
  /** Locked files absent from the workspace. */
  missing: string[];
}

/** How the workspace stands against modelctl.lock (the `lock` field of `status`). */
export interface LockStatus {
  file: string;
  /** Git merge conflicts still open in the lock, per model (`ours`/`theirs`: the version numbers each side names). */
  conflicts: { model: string; ours: number | null; theirs: number | null }[];
  models: LockedModelStatus[];
  /** True when no conflict is open and every locked model matches. */
  clean: boolean;
}

/**
 * Compares the workspace with modelctl.lock (docs/design.md §14): for each locked model (or
 * only `model`), which locked files are modified or missing. Unchanged files are answered by
 * the stat cache. Null when there is no lock.
 */
export function lockStatus(repo: Repository, model?: string): LockStatus | null {
  const state = readLockFile(repo.root);
  if (state.kind === 'absent') return null;
  const conflicts = state.kind === 'conflicted' ? state.conflicts.filter((c) => !model || c.model === model) : [];
  const models: LockedModelStatus[] = [];
  for (const [name, entry] of Object.entries(state.lock.models).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (model && name !== model) continue;
    const present: { abs: string; rel: string; stat: FileStatKey }[] = [];
    const missing: string[] = [];
    for (const path of Object.keys(entry.files).sort()) {
      const abs = join(repo.root, ...path.split('/'));
      const stat = tryStatKey(abs);
      if (stat?.isFile) present.push({ abs, rel: path, stat });
      else missing.push(path);
    }
    const modified = hashWorkingFiles(repo, present, { store: false })
      .filter((h) => h.digest !== entry.files[h.rel])
      .map((h) => h.rel);
    models.push({
      model: name,
      version: entry.version,
      number: entry.number,
      known: getVersion(repo.db, entry.version) !== null,
      matches: modified.length === 0 && missing.length === 0,
      modified,
      missing,
    });
  }
  return {
    file: join(repo.root, LOCK_FILE_NAME),
    conflicts: conflicts.map((c) => ({ model: c.model, ours: c.ours?.number ?? null, theirs: c.theirs?.number ?? null })),
    models,
    clean: conflicts.length === 0 && models.every((m) => m.matches),
  };
}
