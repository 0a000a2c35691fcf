import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, readSync } from 'node:fs';
import { fsError, isErrnoException } from '../errors.js';
import { EMPTY_FILE_DIGEST, fileDigestFromChunks } from './file-digest.js';
import { CHUNKING } from './gear.js';
import { SCRATCH_BYTES, WASM_DATA_OFFSET, WasmChunker, scratchScanEngine } from './gear-wasm.js';
import { DIRECT_ALIGN, openDirect } from './direct-io.js';
import { PARALLEL_FILE_BYTES, hashFdPipelined, hashThreads } from './parallel-hash.js';
import { writeSparseAt } from './positional-io.js';
import { openRegularSync } from './regular-file.js';

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

/**
 * Chunks and hashes a stream of byte slices. Feed slices with `update` (a reused buffer is
 * fine: nothing is retained) and call `finish` at the end. The one hashing path of modelctl:
 * files, folders given as data inputs and test vectors all go through it (the parallel
 * pipeline in parallel-hash.ts runs the same scanner and is tested against it).
 */
export class ChunkHasher {
  private readonly chunker = new WasmChunker();
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
 * Reads `path` once, returning its chunks and digest; when `copyToFd` is given the same
 * bytes are written there (the store's temp file) in the same pass. Memory stays flat
 * whatever the file size. Files of PARALLEL_FILE_BYTES or more are hashed by the
 * worker-thread pipeline (parallel-hash.ts) when more than one thread is allowed; smaller
 * ones on this thread. Same result either way. Throws ModelctlError on I/O errors.
 *
 * `_buffer` is ignored (reads go straight into the scanner's memory); it is accepted so
 * older callers that pass a reusable buffer keep compiling.
 */
export function hashFileSync(path: string, copyToFd?: number, _buffer?: Buffer): HashedFile & { mtimeMs: number } {
  let fd: number;
  try {
    fd = openRegularSync(path);
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const st = fstatSync(fd);
    const result = st.size >= PARALLEL_FILE_BYTES && hashThreads() > 1 ? hashFdPipelined(fd, copyToFd) : hashFdSingleThread(fd, copyToFd, st.size);
    return { ...result, mtimeMs: st.mtimeMs };
  } catch (err) {
    throw fsError(err, path);
  } finally {
    closeSync(fd);
  }
}

/** hashFileSync on this thread only (what each worker runs for whole-file jobs). */
export function hashFileSingleThread(path: string, copyToFd?: number): HashedFile & { mtimeMs: number } {
  let fd: number;
  try {
    fd = openRegularSync(path);
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const st = fstatSync(fd);
    return { ...hashFdSingleThread(fd, copyToFd, st.size), mtimeMs: st.mtimeMs };
  } catch (err) {
    throw fsError(err, path);
  } finally {
    closeSync(fd);
  }
}

let oneChunkBuffer: Buffer | undefined;

/**
 * A file shorter than the smallest chunk is one chunk (docs/design.md §4: no cut comes before
 * the minimum size), so its bytes need no boundary scan: read into a plain buffer, hashed,
 * copied, and no scanner is made (its WebAssembly memory and instance took 2-7 ms of a small
 * commit). Reads by position, from 0, so the descriptor's offset stays where it was; null when
 * the file holds more than `size` bytes (it grew since its stat), for the caller to read it
 * the general way.
 */
function hashOneChunkFd(fd: number, copyToFd: number | undefined, size: number): HashedFile | null {
  // One buffer per thread, reused: a commit of 10,000 small files would otherwise allocate
  // (and collect) each file's size again.
  oneChunkBuffer ??= Buffer.allocUnsafe(CHUNKING.minSize + 1);
  const buf = oneChunkBuffer.subarray(0, size + 1);
  let n = 0;
  while (n < buf.length) {
    const got = readSync(fd, buf, n, buf.length - n, n);
    if (got === 0) break;
    n += got;
  }
  if (n > size) return null;
  const bytes = buf.subarray(0, n);
  if (copyToFd !== undefined) {
    writeSparseAt(copyToFd, bytes, 0);
    ftruncateSync(copyToFd, n);
  }
  if (n === 0) return { size: 0, digest: EMPTY_FILE_DIGEST, chunks: [] };
  const digest = createHash('sha256').update(bytes).digest('hex');
  return { size: n, digest: fileDigestFromChunks([digest]), chunks: [{ digest, offset: 0, length: n }] };
}

/**
 * Reads an open file from its current position to the end into the scanner's own memory
 * (so the boundary scan needs no copy), chunking and hashing as it goes. The copy is
 * written at positions from 0 (so running this again on the same descriptors is harmless),
 * through O_DIRECT for files of PARALLEL_FILE_BYTES or more when the file system allows.
 */
function hashFdSingleThread(fd: number, copyToFd?: number, sizeHint = 0): HashedFile {
  const small = sizeHint < CHUNKING.minSize ? hashOneChunkFd(fd, copyToFd, sizeHint) : null;
  if (small) return small;
  const region = scratchScanEngine().view(WASM_DATA_OFFSET, SCRATCH_BYTES);
  const hasher = new ChunkHasher();
  let directFd = copyToFd !== undefined && sizeHint >= PARALLEL_FILE_BYTES ? openDirect(copyToFd) : -1;
  try {
    let position = 0;
    for (;;) {
      const n = readSync(fd, region, 0, region.length, null);
      if (n === 0) break;
      hasher.update(region, 0, n);
      if (copyToFd !== undefined) {
        const view = region.subarray(0, n);
        if (directFd >= 0 && n % DIRECT_ALIGN === 0 && position % DIRECT_ALIGN === 0) {
          try {
            writeSparseAt(directFd, view, position);
          } catch (err) {
            if (!isErrnoException(err, 'EINVAL')) throw err;
            closeSync(directFd); // refused alignment: the page cache from here on
            directFd = -1;
            writeSparseAt(copyToFd, view, position);
          }
        } else {
          writeSparseAt(copyToFd, view, position);
        }
      }
      position += n;
    }
    // The copy's length, holes at the end included (writes skip zero blocks).
    if (copyToFd !== undefined) ftruncateSync(copyToFd, position);
    return hasher.finish();
  } finally {
    if (directFd >= 0) closeSync(directFd);
  }
}

