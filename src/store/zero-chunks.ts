import { createHash } from 'node:crypto';

/**
 * The digests of all-zero chunks, by length (docs/design.md §9). A sparse file's holes
 * chunk into runs of identical zero chunks; a chunk whose digest is that of `length`
 * zeros is known without its bytes, so pull leaves a hole instead of downloading it.
 */
const digests = new Map<number, string>();
/** Lengths whose zero digest is remembered (chunk lengths repeat: the 4 MiB maximum, mostly). */
const MAX_REMEMBERED = 256;
const MAX_ZERO_CHUNK = 64 * 1024 * 1024;

/** True when `digest` is the sha256 of `length` zero bytes. */
export function isZeroChunk(digest: string, length: number): boolean {
  if (length <= 0 || length > MAX_ZERO_CHUNK) return false;
  let d = digests.get(length);
  if (d === undefined) {
    d = createHash('sha256').update(Buffer.alloc(length)).digest('hex');
    if (digests.size < MAX_REMEMBERED) digests.set(length, d);
  }
  return d === digest;
}
