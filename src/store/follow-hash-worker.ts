import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkHasher } from './hash-file.js';
import { serializeError } from './parallel-hash.js';
import type { FollowHashMessage, FollowHashWorkerData, FollowHashAnswer } from './follow-hash.js';

/**
 * The thread of a FollowHasher (follow-hash.ts): it reads the file being downloaded up to
 * the length the downloading thread reports as written, chunking and hashing as it goes,
 * and answers with the chunk list when told the file is complete. It reads the file (the
 * page cache), not the socket's bytes, so what it hashes is what the file holds; or, for
 * bytes written with O_DIRECT, is handed the very memory the write took them from.
 */
const { path } = workerData as FollowHashWorkerData;
const READ_BYTES = 4 * 1024 * 1024;
const buffer = Buffer.allocUnsafe(READ_BYTES);
let fd = -1;
let hasher = new ChunkHasher();
let position = 0;
let written = 0;
let complete = false;

/**
 * Reads and hashes up to `written`. A read that comes up short before the file is complete
 * waits for the next message: the downloading thread may have cut the file back to 0 for a
 * restart that is still queued behind the lengths it reported before (the restart resets
 * all of this). Short once the file is complete, it fails, and the file is hashed there.
 */
function catchUp(): void {
  if (position < written && fd < 0) fd = openSync(path, 'r');
  while (position < written) {
    const n = readSync(fd, buffer, 0, Math.min(READ_BYTES, written - position), position);
    if (n === 0) {
      if (complete) throw new Error(`${path} is shorter than the ${written} bytes written to it`);
      return;
    }
    hasher.update(buffer, 0, n);
    position += n;
  }
}

/**
 * Hashes bytes handed over from memory (FollowHasher.hashBytes): they must start at or
 * before where the hash stands (a part already read from the file is skipped) and reach past it.
 */
function takeBytes(m: Extract<FollowHashMessage, { kind: 'bytes' }>): void {
  if (m.position > position) throw new Error(`bytes from ${m.position} handed over while the hash stands at ${position}`);
  const skip = position - m.position;
  if (skip < m.length) {
    hasher.update(new Uint8Array(m.memory, m.offset + skip, m.length - skip));
    position += m.length - skip;
  }
  written = Math.max(written, position);
}

parentPort?.on('message', (m: FollowHashMessage) => {
  try {
    if (m.kind === 'bytes') {
      takeBytes(m);
      parentPort?.postMessage({ took: m.id } satisfies FollowHashAnswer);
      return;
    }
    if (m.kind === 'restart') {
      hasher = new ChunkHasher();
      position = 0;
      written = 0;
      return;
    }
    written = Math.max(written, m.written);
    if (m.kind === 'complete') complete = true;
    catchUp();
    if (complete) {
      if (fd >= 0) closeSync(fd);
      fd = -1;
      parentPort?.postMessage({ hashed: hasher.finish() } satisfies FollowHashAnswer);
    }
  } catch (err) {
    parentPort?.postMessage({ error: serializeError(err) } satisfies FollowHashAnswer);
  }
});
