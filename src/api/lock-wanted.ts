import type { Repository } from './repository.js';

// On its own, without lock-update.ts and the lock file's reader and validator behind it: a
// command that keeps no lock decides so without loading them (promote: docs/design.md §1, Build).

/** True when a command should keep modelctl.lock up to date: `--lock`, else `lock: true` in modelctl.json. */
export function lockWanted(repo: Repository, flag: boolean | undefined): boolean {
  return flag ?? repo.settings.lock;
}
