import { randomBytes } from 'node:crypto';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Temp files this process has open. On SIGINT/SIGTERM the CLI removes them all before
 * exiting 130, so an interrupted command leaves nothing half-written behind.
 */
const live = new Set<string>();

/** Creates an exclusive temp file in `dir` and registers it; returns path and fd. */
export function createTempFile(dir: string, suffix = '.tmp'): { path: string; fd: number } {
  const path = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}${suffix}`);
  const fd = openSync(path, 'wx', 0o600);
  live.add(path);
  return { path, fd };
}

/** Forgets a temp file that has been renamed into place or removed. */
export function releaseTempFile(path: string): void {
  live.delete(path);
}

/** Closes (when fd given) and deletes a temp file, ignoring errors. */
export function discardTempFile(path: string, fd?: number): void {
  if (fd !== undefined) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
  live.delete(path);
}

/** Deletes every registered temp file (signal handler path: synchronous on purpose). */
export function removeAllTempFiles(): void {
  for (const p of [...live]) discardTempFile(p);
}
