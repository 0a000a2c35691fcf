import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { codeOf, fsError } from '../errors.js';
import { sqliteDriver, type Database } from './index-db.js';
import { processAlive } from './process-alive.js';

/**
 * An exclusive lock on a folder for as long as this process holds it (README "Watch: deploy on
 * stage change": one watch per state folder). It is an SQLite EXCLUSIVE transaction on
 * `<dir>/<name>`, that is a file lock that the kernel drops when the process ends however it
 * ends: a watch killed with kill -9 leaves nothing that blocks the next start, and a pid reused
 * after a restart (a container's) cannot make a lock look held. Who holds it is written beside
 * it (`<name>.owner`), only to name that process to one that is refused.
 */

const HOST = hostname();

/** The process holding a folder lock, as it recorded itself. */
export interface FolderLockOwner {
  pid: number;
  host: string;
  since: string;
}

export interface FolderLock {
  /** Drops the lock (the end of the process does too). */
  release(): void;
}

/** Takes the lock on `dir`, or says who holds it (`heldBy` null when that cannot be told). */
export function tryLockFolder(dir: string, name: string): { lock: FolderLock } | { lock: null; heldBy: FolderLockOwner | null } {
  const path = join(dir, name);
  const { Sqlite, addon } = sqliteDriver();
  let db: Database;
  try {
    db = new Sqlite(path, { timeout: 0, nativeBinding: addon });
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    const code = codeOf(err);
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return { lock: null, heldBy: ownerOf(path) };
    throw fsError(err, path);
  }
  writeOwner(path);
  let held = true;
  return {
    lock: {
      release() {
        if (!held) return;
        held = false;
        rmSync(`${path}.owner`, { force: true });
        try {
          db.exec('ROLLBACK');
        } finally {
          db.close();
        }
      },
    },
  };
}

function writeOwner(path: string): void {
  const owner: FolderLockOwner = { pid: process.pid, host: HOST, since: new Date().toISOString() };
  const tmp = `${path}.owner.${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(owner)}\n`);
  renameSync(tmp, `${path}.owner`);
}

/**
 * The holder's record, when it is believable: a record of a dead process on this host was left
 * by an earlier holder (the lock changed hands, the new holder is writing its own).
 */
function ownerOf(path: string): FolderLockOwner | null {
  try {
    const o = JSON.parse(readFileSync(`${path}.owner`, 'utf8')) as Partial<FolderLockOwner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string' || typeof o.since !== 'string') return null;
    if (o.host === HOST && !processAlive(o.pid)) return null;
    return { pid: o.pid, host: o.host, since: o.since };
  } catch {
    return null;
  }
}
