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

/** Granularity of holes: 64 KiB, a multiple of every block and O_DIRECT alignment. */
export const HOLE_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(HOLE_BYTES);

/**
 * writeAllAt for a file whose unwritten ranges read as zeros (a fresh temp file): blocks of
 * HOLE_BYTES, aligned to file offsets, that are all zeros are skipped and stay holes, so a
 * sparse file (or any long run of zeros) takes no disk space. The caller extends the file
 * to its full length at the end (ftruncate), which also makes trailing zeros a hole.
 * Offsets and lengths of the writes stay aligned as they were (O_DIRECT keeps working).
 */
export function writeSparseAt(fd: number, view: Uint8Array, position: number): void {
  let runStart = -1; // start (within view) of the pending run of non-zero blocks
  for (let off = 0; off < view.length; ) {
    // The next block boundary in file offsets, so holes line up with the file's blocks.
    const end = Math.min(view.length, off + HOLE_BYTES - ((position + off) % HOLE_BYTES));
    const block = view.subarray(off, end);
    const zero = ZEROS.compare(block, 0, block.length, 0, block.length) === 0;
    if (zero && runStart >= 0) {
      writeAllAt(fd, view.subarray(runStart, off), position + runStart);
      runStart = -1;
    } else if (!zero && runStart < 0) {
      runStart = off;
    }
    off = end;
  }
  if (runStart >= 0) writeAllAt(fd, view.subarray(runStart), position + runStart);
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
