import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { isErrnoException } from '../errors.js';
import { DIRECT_ALIGN } from './direct-io.js';
import { CHUNKING } from './gear.js';
import { WasmChunker } from './gear-wasm.js';
import { writeAllAt, writeSparseAt } from './positional-io.js';

/** Why a downloaded chunk was refused: the bytes' sha256, or where the chunker would cut them. */
export type ChunkVerdict = 'ok' | 'digest' | 'cuts';

/**
 * True when the chunker, fed exactly `bytes` as one chunk, would cut them where a chunk
 * list says: at their end, or — for the last chunk of a file — nowhere before it.
 *
 * Why per chunk: the chunker's state starts afresh at every cut (docs/design.md §4: `h`
 * starts at 0 and the first minSize bytes are skipped), so whether a cut falls at a
 * chunk's end depends on that chunk's bytes alone. Checking each chunk as it arrives is
 * therefore exactly the boundary scan of the whole rebuilt file, without reading the file
 * back once it is written, and it runs on any thread, in any order.
 */
export function cutsAsListed(bytes: Uint8Array, last: boolean, chunker: WasmChunker = new WasmChunker()): boolean {
  if (bytes.length === 0 || bytes.length > CHUNKING.maxSize) return false;
  chunker.reset();
  const cuts = chunker.push(bytes);
  if (cuts.length === 0) return last; // no cut inside: only the end of the file may end it
  return cuts.length === 1 && cuts[0] === bytes.length;
}

const zeroVerdicts = new Map<string, boolean>();
/**
 * cutsAsListed for a chunk of `length` zero bytes (a hole pull leaves unwritten), without
 * its bytes: remembered per length, since holes repeat the same few lengths.
 */
export function zeroChunkCutsAsListed(length: number, last: boolean): boolean {
  if (length <= 0 || length > CHUNKING.maxSize) return false;
  const key = `${length}:${last}`;
  let verdict = zeroVerdicts.get(key);
  if (verdict === undefined) {
    verdict = cutsAsListed(Buffer.alloc(length), last);
    zeroVerdicts.set(key, verdict);
  }
  return verdict;
}

/**
 * The checks a chunk passes before it becomes part of an object (docs/design.md §7): its
 * sha256 is the digest it is listed under, and the chunker cuts it where the list does.
 */
export function checkChunk(bytes: Uint8Array, digest: string, last: boolean, chunker?: WasmChunker): ChunkVerdict {
  if (createHash('sha256').update(bytes).digest('hex') !== digest) return 'digest';
  return cutsAsListed(bytes, last, chunker) ? 'ok' : 'cuts';
}

/** One chunk for a checking thread: bytes in a slot of the shared memory, or read into it first. */
export interface ChunkJob {
  /** Offset of the chunk's bytes in the shared memory. */
  offset: number;
  length: number;
  digest: string;
  /** The file's last chunk (no cut required at its end). */
  last: boolean;
  /** Read the bytes from this descriptor at this position first (a resumed partial file, a local object). */
  readFrom?: { fd: number; position: number };
  /**
   * Once the checks pass, write the bytes to this descriptor at this position; `sparse`
   * where the file reads as zeros already (past its end): blocks of zeros stay holes.
   * `directFd`, an O_DIRECT descriptor of the same file, takes the chunk's block-aligned
   * middle (the pool puts the bytes at addresses aligned like their file offsets).
   */
  writeTo?: { fd: number; position: number; sparse?: boolean; directFd?: number };
}

/** A job's verdict, or 'short' when `readFrom` ended before `length` bytes. */
export type ChunkJobVerdict = ChunkVerdict | 'short';

/**
 * Runs one chunk job on `memory` (on a checking thread, or on the calling thread when none
 * can): reads, checks, and only when both checks pass, writes. Idempotent, so a job a dead
 * thread left unanswered can be run again. Throws on I/O errors.
 */
export function runChunkJob(job: ChunkJob, memory: Uint8Array, chunker?: WasmChunker): ChunkJobVerdict {
  const view = memory.subarray(job.offset, job.offset + job.length);
  if (job.readFrom) {
    for (let done = 0; done < job.length; ) {
      const n = readSync(job.readFrom.fd, view, done, job.length - done, job.readFrom.position + done);
      if (n === 0) return 'short';
      done += n;
    }
  }
  const verdict = checkChunk(view, job.digest, job.last, chunker);
  if (verdict === 'ok' && job.writeTo) writeChunk(job.writeTo, view);
  return verdict;
}

/** Chunks shorter than this are written through the page cache whole (O_DIRECT waits on the disk). */
export const DIRECT_MIN_BYTES = 64 * 1024;

/**
 * Writes a checked chunk. With an O_DIRECT descriptor (why: direct-io.ts), the whole blocks in
 * its middle go through it and only the partial blocks at its two ends through the page
 * cache (docs/design.md §7, "Verified download"). A refused O_DIRECT write (EINVAL: the file
 * system or the alignment) falls back to the page cache.
 */
function writeChunk(to: NonNullable<ChunkJob['writeTo']>, view: Uint8Array): void {
  const write = to.sparse ? writeSparseAt : writeAllAt;
  const direct = to.directFd ?? -1;
  if (direct < 0 || view.length < DIRECT_MIN_BYTES) return write(to.fd, view, to.position);
  const head = (DIRECT_ALIGN - (to.position % DIRECT_ALIGN)) % DIRECT_ALIGN;
  const middle = Math.floor((view.length - head) / DIRECT_ALIGN) * DIRECT_ALIGN;
  if (head > 0) write(to.fd, view.subarray(0, head), to.position);
  try {
    write(direct, view.subarray(head, head + middle), to.position + head);
  } catch (err) {
    if (!isErrnoException(err) || err.code !== 'EINVAL') throw err;
    write(to.fd, view.subarray(head, head + middle), to.position + head);
  }
  if (head + middle < view.length) write(to.fd, view.subarray(head + middle), to.position + head + middle);
}
