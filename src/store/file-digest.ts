import { createHash } from 'node:crypto';

const FILE_DIGEST_PREFIX = Buffer.from('modelctl-file-v1\0', 'ascii');

/**
 * A file's digest (docs/design.md §4): sha256("modelctl-file-v1" ‖ 0x00 ‖ d1 ‖ … ‖ dn) over its
 * chunks' raw 32-byte digests, for every file including empty and one-chunk files.
 */
export function fileDigestFromChunks(chunkDigests: readonly (Buffer | string)[]): string {
  const h = createHash('sha256').update(FILE_DIGEST_PREFIX);
  for (const d of chunkDigests) h.update(typeof d === 'string' ? Buffer.from(d, 'hex') : d);
  return h.digest('hex');
}

/**
 * The digest of an empty file (no chunks): fileDigestFromChunks([]), written out so that
 * loading this module hashes nothing (test/unit/chunker-vectors.test.ts checks the two agree).
 */
export const EMPTY_FILE_DIGEST = 'daa134541db0bc22dfc2d539ab7445dbd04126be8ef69e2550e50a3a03dbe535';
