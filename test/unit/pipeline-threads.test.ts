/**
 * How many threads the hashing pool starts (store/parallel-hash.ts): each is a V8 isolate,
 * ~25-50 ms of CPU, which a commit of a few hundred MiB feels. A big file on 2 threads takes
 * one hash worker and the writer (this thread reads and scans); the folder fsync after it
 * starts nothing more; many files then get a worker per thread. Its own file: the pool is
 * per process, and other test files start it their own way.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFileSingleThread } from '../../src/store/hash-file.js';
import { PARALLEL_FILE_BYTES, fsyncPaths, hashFdPipelined, hashFilesParallel, startedHashThreads } from '../../src/store/parallel-hash.js';

let dir: string;
const savedThreads = process.env.MODELCTL_THREADS;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelctl-pthreads-'));
  process.env.MODELCTL_THREADS = '2';
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (savedThreads === undefined) delete process.env.MODELCTL_THREADS;
  else process.env.MODELCTL_THREADS = savedThreads;
});

/** Deterministic bytes that are not zeros (zero blocks are never written): xorshift words. */
function bytes(n: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = seed;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, n);
}

describe('hashing pool threads', () => {
  it('a big file on 2 threads starts one hash worker and the writer, and its copy is whole', () => {
    const data = bytes(PARALLEL_FILE_BYTES + 5 * 1024 * 1024 + 3, 7);
    const src = join(dir, 'big.bin');
    writeFileSync(src, data);
    const fd = openSync(src, 'r');
    const copy = join(dir, 'big.copy');
    const out = openSync(copy, 'w', 0o600);
    try {
      expect(hashFdPipelined(fd, out)).toMatchObject({ size: data.length, digest: hashFileSingleThread(src).digest });
      fsyncSync(out);
    } finally {
      closeSync(fd);
      closeSync(out);
    }
    expect(readFileSync(copy).equals(data)).toBe(true);
    expect(startedHashThreads()).toBe(2);
    // The folder of the stored object, fsynced after: on the running worker, none started for it.
    fsyncPaths([dir]);
    expect(startedHashThreads()).toBe(2);
  });

  it('many files then use a worker per thread', () => {
    const paths = Array.from({ length: 8 }, (_, i) => {
      const p = join(dir, `f${i}.bin`);
      writeFileSync(p, bytes(100_000 + i, i + 1));
      return p;
    });
    const digests: string[] = [];
    hashFilesParallel(paths.map((path) => ({ path })), (i, r) => {
      if (r instanceof Error) throw r;
      digests[i] = r.digest;
    }, (job) => hashFileSingleThread(job.path));
    expect(digests).toEqual(paths.map((p) => hashFileSingleThread(p).digest));
    expect(startedHashThreads()).toBe(3);
  });
});
