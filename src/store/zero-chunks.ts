import { createHash, type Hash } from 'node:crypto';

/**
 * The digests of all-zero chunks, by length (docs/design.md §9). A sparse file's holes
 * chunk into runs of identical zero chunks; a chunk whose digest is that of `length`
 * zeros is known without its bytes, so pull leaves a hole instead of downloading it.
 *
 * Pull asks this of every chunk, and content-defined chunks of real data have as many
 * lengths as chunks: hashing `length` zeros each time cost a second sha256 pass over a
 * whole download (1 GiB of zeros hashed, and allocated, per GiB pulled: ~5 s of CPU and
 * garbage). SHA-256 is a running state over 64-byte blocks, so the state after every
 * STEP zeros is kept (hash.copy()), and the digest of any length is that state plus
 * fewer than STEP more zeros: microseconds, no allocation of the length.
 */
const STEP = 4096;
const ZEROS = Buffer.alloc(STEP);
/** checkpoints[k]: the sha256 state after k × STEP zero bytes (grown on demand). */
const checkpoints: Hash[] = [createHash('sha256')];
/** Lengths whose zero digest is remembered (the chunker's length on zeros repeats). */
const remembered = new Map<number, string>();
const MAX_REMEMBERED = 256;
const MAX_ZERO_CHUNK = 64 * 1024 * 1024;

/** The sha256 (hex) of `length` zero bytes. */
export function zeroDigest(length: number): string {
  let d = remembered.get(length);
  if (d !== undefined) return d;
  const k = Math.floor(length / STEP);
  while (checkpoints.length <= k) checkpoints.push(checkpoints[checkpoints.length - 1].copy().update(ZEROS));
  d = checkpoints[k].copy().update(ZEROS.subarray(0, length % STEP)).digest('hex');
  if (remembered.size < MAX_REMEMBERED) remembered.set(length, d);
  return d;
}

/** True when `digest` is the sha256 of `length` zero bytes. */
export function isZeroChunk(digest: string, length: number): boolean {
  if (length <= 0 || length > MAX_ZERO_CHUNK) return false;
  return zeroDigest(length) === digest;
}
