import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { fsError } from '../errors.js';
import { Chunker } from './chunker.js';
import { fileDigestFromChunks } from './file-digest.js';

/** One chunk of a file: its digest and where it lies in the file. */
export interface ChunkRef {
  digest: string;
  offset: number;
  length: number;
}

/** What one read pass over a file yields. */
export interface HashedFile {
  size: number;
  digest: string;
  chunks: ChunkRef[];
}

/** Read buffer size: large enough for few syscalls, small enough to stay in cache. */
const READ_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Chunks and hashes a stream of byte slices. Feed slices with `update` (a reused buffer is
 * fine: nothing is retained) and call `finish` at the end. The one hashing path of modelctl:
 * files, folders given as data inputs and test vectors all go through it.
 */
export class ChunkHasher {
  private readonly chunker = new Chunker();
  private hash: Hash = createHash('sha256');
  private chunkStart = 0;
  private position = 0;
  readonly chunks: ChunkRef[] = [];

  /** Consumes `buf[start, end)`. */
  update(buf: Uint8Array, start = 0, end = buf.length): void {
    const cuts = this.chunker.push(buf, start, end);
    let from = start;
    for (const cut of cuts) {
      this.hash.update(buf.subarray(from, cut));
      this.position += cut - from;
      this.endChunk();
      from = cut;
    }
    this.hash.update(buf.subarray(from, end));
    this.position += end - from;
  }

  /** Ends the input and returns the size, file digest and chunk list. */
  finish(): HashedFile {
    if (this.position > this.chunkStart) this.endChunk();
    return {
      size: this.position,
      digest: fileDigestFromChunks(this.chunks.map((c) => c.digest)),
      chunks: this.chunks,
    };
  }

  private endChunk(): void {
    this.chunks.push({ digest: this.hash.digest('hex'), offset: this.chunkStart, length: this.position - this.chunkStart });
    this.hash = createHash('sha256');
    this.chunkStart = this.position;
  }
}

/**
 * Reads `path` once, in a reused buffer, returning its chunks and digest; when `copyToFd`
 * is given the same bytes are written there (the store's temp file) in the same pass.
 * Memory stays flat whatever the file size. Throws ModelctlError on I/O errors.
 */
export function hashFileSync(path: string, copyToFd?: number, buffer?: Buffer): HashedFile & { mtimeMs: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const st = fstatSync(fd);
    const buf = buffer ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const hasher = new ChunkHasher();
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.update(buf, 0, n);
      if (copyToFd !== undefined) writeAll(copyToFd, buf, n);
    }
    return { ...hasher.finish(), mtimeMs: st.mtimeMs };
  } catch (err) {
    throw fsError(err, path);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, buf: Buffer, n: number): void {
  let off = 0;
  while (off < n) off += writeSync(fd, buf, off, n - off);
}
