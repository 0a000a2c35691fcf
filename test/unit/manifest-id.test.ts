/**
 * core/manifest-id.ts hashes small manifests in JavaScript and big ones with node:crypto:
 * both sides of the threshold give the sha256 of the bytes.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manifestId } from '../../src/core/manifest-id.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('manifestId', () => {
  it('is the sha256 of the bytes, below, at and above the JavaScript-hash threshold', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 256 * 1024, 256 * 1024 + 1, 3 * 1024 * 1024]) {
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 131 + 7) & 0xff;
      expect(manifestId(bytes), `${n} bytes`).toBe(sha256(bytes));
    }
    expect(manifestId(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
