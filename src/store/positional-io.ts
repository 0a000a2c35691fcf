import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { fsError } from '../errors.js';

/**
 * Positional reads and writes (the descriptor's own offset is never used, so parallel
 * jobs on one descriptor do not disturb each other). The one place these loops live.
 */

/** Reads exactly `length` bytes at `offset`, or null when the file ends first. */
export function readAt(fd: number, offset: number, length: number): Buffer | null {
  const buf = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) return null;
    done += n;
  }
  return buf;
}

/** Writes all of `view` at `position`. */
export function writeAllAt(fd: number, view: Uint8Array, position: number): void {
  for (let off = 0; off < view.length; ) off += writeSync(fd, view, off, view.length - off, position + off);
}

/** Reads `length` bytes at `offset` of a local file (a chunk of an object). */
export function readRange(path: string, offset: number, length: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const buf = readAt(fd, offset, length);
    if (!buf) throw new Error(`${path} is shorter than expected`);
    return buf;
  } finally {
    closeSync(fd);
  }
}
