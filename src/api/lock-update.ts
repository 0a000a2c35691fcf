import { join } from 'node:path';
import { ConflictError } from '../errors.js';
import { getVersion, versionFiles } from '../store/version-records.js';
import { LOCK_FILE_NAME, emptyLock, readLockFile, writeLockFile, type LockConflict, type LockState, type LockedModel } from '../workspace/lock-file.js';
import { lockWanted } from './lock-wanted.js';
import type { Repository } from './repository.js';

/** What a command wrote into modelctl.lock (the `lock` field of its result). */
export interface LockUpdate {
  /** Absolute path of modelctl.lock. */
  file: string;
  /** False when the lock already said this. */
  changed: boolean;
  models: { model: string; version: string; number: number; ref: string }[];
  /** Models whose git merge conflict in the lock is still open (written back between markers). */
  conflicts: string[];
}

export { lockWanted } from './lock-wanted.js';

/**
 * Reads modelctl.lock up front when the command will update it: an unreadable lock (INVALID_LOCK,
 * exit 2) then refuses the command before it changes anything, instead of after the version,
 * stage move or checkout it made (a merge-conflicted lock is fine: updateLock resolves it).
 */
export function assertLockReadable(repo: Repository, flag: boolean | undefined): void {
  if (lockWanted(repo, flag)) readLockFile(repo.root);
}

/**
 * Makes each version of `versionIds` its model's locked version in modelctl.lock (docs/design.md
 * §14), when `flag` or the `lock` setting asks for it; null otherwise. A lock with git conflict
 * markers is merged first: the models written here are resolved, the rest stay conflicted.
 * The file is replaced atomically, and only when its content changes.
 */
export function updateLock(repo: Repository, flag: boolean | undefined, versionIds: readonly string[]): LockUpdate | null {
  if (!lockWanted(repo, flag) || versionIds.length === 0) return null;
  const state = readLockFile(repo.root);
  const lock = state.kind === 'absent' ? emptyLock() : structuredClone(state.lock);
  let conflicts: LockConflict[] = state.kind === 'conflicted' ? [...state.conflicts] : [];
  const models: LockUpdate['models'] = [];
  for (const id of versionIds) {
    const row = getVersion(repo.db, id);
    if (!row) throw new Error(`BUG: version ${id} to lock is not in the index`);
    lock.models[row.model] = lockedEntry(repo, id, row.number);
    conflicts = conflicts.filter((c) => c.model !== row.model);
    models.push({ model: row.model, version: id, number: row.number, ref: `${row.model}@v${row.number}` });
  }
  const before = state.kind === 'absent' ? null : JSON.stringify([state.lock, state.kind === 'conflicted' ? state.conflicts : []]);
  const changed = before !== JSON.stringify([lock, conflicts]);
  if (changed) writeLockFile(repo.root, lock, conflicts, state.kind === 'conflicted' ? state.labels : undefined);
  return { file: join(repo.root, LOCK_FILE_NAME), changed, models, conflicts: conflicts.map((c) => c.model) };
}

/** The lock entry of a version: id, number and each file's digest, from the index. */
export function lockedEntry(repo: Repository, id: string, number: number): LockedModel {
  const files: Record<string, string> = {};
  for (const f of versionFiles(repo.db, id)) files[f.path] = f.digest;
  return { version: id, number, files };
}

/**
 * ConflictError (4) explaining an unresolved git merge of modelctl.lock: each model with the
 * version either side wants, and how to choose.
 */
export function lockConflictError(state: Extract<LockState, { kind: 'conflicted' }>): ConflictError {
  const side = (e: LockedModel | null) => (e ? `v${e.number} (${e.version.slice(0, 12)})` : 'none');
  const list = state.conflicts.map((c) => `${c.model}: ${state.labels.ours} has ${side(c.ours)}, ${state.labels.theirs} has ${side(c.theirs)}`);
  const first = state.conflicts[0];
  const pick = first.theirs ?? first.ours;
  return new ConflictError('LOCK_CONFLICT', `${LOCK_FILE_NAME} has unresolved git merge conflicts — ${list.join('; ')}`, {
    hint: `choose a version for each model, e.g. \`modelctl checkout ${first.model}@${pick ? pick.version.slice(0, 12) : 'latest'} --lock\` (it rewrites that model's entry), then \`git add ${LOCK_FILE_NAME}\``,
    data: {
      conflicts: state.conflicts.map((c) => ({ model: c.model, ours: c.ours && { version: c.ours.version, number: c.ours.number }, theirs: c.theirs && { version: c.theirs.version, number: c.theirs.number } })),
      labels: state.labels,
    },
  });
}
