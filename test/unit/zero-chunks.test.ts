import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isZeroChunk, zeroDigest } from '../../src/store/zero-chunks.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('zero chunks', () => {
  it('the digest of n zeros from the kept states is sha256 of n zeros, at and around every step', () => {
    // Out of order, so states are grown, reused and copied (a copy must not move the state kept).
    for (const n of [1, 4097, 0, 4095, 4096, 8192, 3 * 1024 * 1024 + 7, 1024 * 1024, 4 * 1024 * 1024, 8191, 4097]) {
      expect(zeroDigest(n)).toBe(sha(Buffer.alloc(n)));
    }
  });

  it('recognises a zero chunk by digest and length only', () => {
    const n = 1_234_567;
    const zeros = sha(Buffer.alloc(n));
    expect(isZeroChunk(zeros, n)).toBe(true);
    expect(isZeroChunk(zeros, n + 1)).toBe(false);
    const notZero = Buffer.alloc(n);
    notZero[n - 1] = 1;
    expect(isZeroChunk(sha(notZero), n)).toBe(false);
    expect(isZeroChunk(sha(Buffer.alloc(0)), 0)).toBe(false);
  });
});
