/**
 * store/verified-read.ts, the reader `serve` sends object bytes through (docs/design.md §12,
 * "Served bytes are checked"): a range is handed on only after every chunk it touches hashed
 * to its digest; a chunk the caller already found intact is not hashed again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashFileSync } from '../../src/store/hash-file.js';
import { ChunkMismatch, chunksCover, sendVerifiedRange, type CheckedChunks } from '../../src/store/verified-read.js';
import { pseudoRandomBytes, tempDir } from '../helpers/temp-repo.js';

/** What sendVerifiedRange sends of [a, b), gathered (copies: a sent piece's memory may be reused). */
async function collect(path: string, chunks: Parameters<typeof sendVerifiedRange>[1], a: number, b: number, known?: CheckedChunks, into: Buffer[] = []): Promise<Buffer> {
  await sendVerifiedRange(path, chunks, a, b, async (piece) => void into.push(Buffer.from(piece)), known);
  return Buffer.concat(into);
}

function objectWithChunks(): { path: string; bytes: Buffer; chunks: ReturnType<typeof hashFileSync>['chunks'] } {
  const bytes = pseudoRandomBytes(5 * 1024 * 1024 + 3, 11);
  const path = join(tempDir(), 'object');
  writeFileSync(path, bytes);
  const { chunks } = hashFileSync(path);
  expect(chunks.length).toBeGreaterThan(2);
  expect(chunksCover(chunks, bytes.length)).toBe(true);
  return { path, bytes, chunks };
}

describe('sendVerifiedRange', () => {
  it('yields exactly the range asked for, across chunk boundaries', async () => {
    const { path, bytes, chunks } = objectWithChunks();
    const cut = chunks[1].offset;
    for (const [a, b] of [[0, bytes.length], [cut - 5, cut + 5], [10, 20], [bytes.length - 1, bytes.length]]) {
      expect((await collect(path, chunks, a, b)).equals(bytes.subarray(a, b))).toBe(true);
    }
  });

  it('refuses a range whose chunk changed before yielding any of that chunk; a known-intact chunk is not hashed again', async () => {
    const { path, bytes, chunks } = objectWithChunks();
    const bad = Buffer.from(bytes);
    bad[chunks[1].offset + 7] ^= 0xff;
    writeFileSync(path, bad);
    const got: Buffer[] = [];
    await expect(collect(path, chunks, 0, bytes.length, undefined, got)).rejects.toBeInstanceOf(ChunkMismatch);
    expect(Buffer.concat(got).length).toBe(chunks[1].offset); // chunk 0 only
    // A range in an intact chunk still reads.
    expect((await collect(path, chunks, 0, 100)).equals(bytes.subarray(0, 100))).toBe(true);
    // Marked as found intact before (the caller's memory), chunk 1 is handed on unhashed.
    const added: number[] = [];
    const known = { has: (i: number) => i === 1, add: (i: number) => void added.push(i) };
    const out = await collect(path, chunks, 0, chunks[2].offset, known);
    expect(out.equals(bad.subarray(0, chunks[2].offset))).toBe(true);
    expect(added).toEqual([0]);
  });

  it('an object shorter than its chunk list is a mismatch', async () => {
    const { path, bytes, chunks } = objectWithChunks();
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    await expect(collect(path, chunks, 0, bytes.length)).rejects.toBeInstanceOf(ChunkMismatch);
  });
});
