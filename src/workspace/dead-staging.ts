import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../store/process-alive.js';

/** A checkout's staged file: `<pid>-<random>.modelctl-tmp` (store/temp-files.ts createTempFile). */
const STAGED = /^(\d+)-[0-9a-z]+\.modelctl-tmp$/;

/**
 * Removes the files a checkout or pull killed while staging (kill -9, a lost machine) left in
 * `dir`: named by a process of this host that is no longer running. A staged file is never
 * a user's file, and the next checkout into the folder is where the user looks (README,
 * "Crashes (kill -9)"). One of a running process, this one included, stays. Returns how many went.
 */
export function removeDeadStaging(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(STAGED.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // gone already, or not ours to remove: it stays as it was
    }
  }
  return removed;
}
