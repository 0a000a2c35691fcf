/**
 * FollowHasher (store/follow-hash.ts) chunks and hashes a file on a thread while it is
 * still being written, told how far the file holds bytes. Whatever the order of reports,
 * restarts, thread or no thread, it must give exactly what hashing the finished file gives.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pageAlignedSharedBuffer } from '../../src/store/direct-io.js';
import { FollowHasher } from '../../src/store/follow-hash.js';
import { hashFileSingleThread } from '../../src/store/hash-file.js';
import { PARALLEL_FILE_BYTES } from '../../src/store/parallel-hash.js';

const MiB = 1024 * 1024;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'follow-hash-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function expected(path: string) {
  const { size, digest, chunks } = hashFileSingleThread(path);
  return { size, digest, chunks };
}

/** Writes `data` to `path` in pieces, telling the hasher after each one, as a download does. */
async function writeFollowed(path: string, data: Buffer, hasher: FollowHasher, piece: number): Promise<void> {
  for (let at = 0; at < data.length; at += piece) {
    appendFileSync(path, data.subarray(at, Math.min(data.length, at + piece)));
    hasher.written(Math.min(data.length, at + piece));
    if ((at / piece) % 8 === 0) await new Promise((r) => setImmediate(r)); // let the thread catch up now and then
  }
}

describe('FollowHasher', () => {
  it('hashes a big file on its thread as it is written, exactly as the finished file hashes', async () => {
    const data = randomBytes(PARALLEL_FILE_BYTES + 5 * MiB + 77);
    const path = join(dir, 'big.partial');
    writeFileSync(path, '');
    const hasher = new FollowHasher(path, data.length, { MODELCTL_THREADS: '2' });
    try {
      await writeFollowed(path, data, hasher, MiB + 13);
      const got = await hasher.finish(data.length);
      expect(got).toEqual(expected(path));
      expect(got.chunks.length).toBeGreaterThan(10);
      expect(hasher.hashedOnThread).toBe(true);
    } finally {
      hasher.close();
    }
  });

  it('starts again from byte 0 after restart(), forgetting what it had hashed', async () => {
    const first = randomBytes(20 * MiB);
    const data = randomBytes(PARALLEL_FILE_BYTES + 3 * MiB);
    const path = join(dir, 'restart.partial');
    writeFileSync(path, '');
    const hasher = new FollowHasher(path, data.length, { MODELCTL_THREADS: '2' });
    try {
      await writeFollowed(path, first, hasher, 4 * MiB);
      truncateSync(path, 0);
      hasher.restart();
      await writeFollowed(path, data, hasher, 2 * MiB);
      expect(await hasher.finish(data.length)).toEqual(expected(path));
      expect(hasher.hashedOnThread).toBe(true);
    } finally {
      hasher.close();
    }
  });

  it('continues a partial file left by an earlier attempt (its prefix reported first)', async () => {
    const data = randomBytes(PARALLEL_FILE_BYTES + MiB);
    const path = join(dir, 'resume.partial');
    writeFileSync(path, data.subarray(0, 9 * MiB));
    const hasher = new FollowHasher(path, data.length, { MODELCTL_THREADS: '2' });
    try {
      hasher.written(9 * MiB);
      appendFileSync(path, data.subarray(9 * MiB));
      expect(await hasher.finish(data.length)).toEqual(expected(path));
      expect(hasher.hashedOnThread).toBe(true);
    } finally {
      hasher.close();
    }
  });

  it('hashes small files, and any file under MODELCTL_THREADS=1, on this thread once complete', async () => {
    for (const [size, env] of [[3 * MiB + 1, {}], [PARALLEL_FILE_BYTES + 1, { MODELCTL_THREADS: '1' }]] as const) {
      const data = randomBytes(size);
      const path = join(dir, `small-${size}.partial`);
      writeFileSync(path, '');
      const hasher = new FollowHasher(path, size, env);
      await writeFollowed(path, data, hasher, MiB);
      expect(await hasher.finish(size)).toEqual(expected(path));
      expect(hasher.hashedOnThread).toBe(false);
    }
  });

  it('a read that comes up short waits for more (a restart may be queued); the file is complete and the thread answers', async () => {
    const data = randomBytes(PARALLEL_FILE_BYTES + MiB);
    const path = join(dir, 'late.partial');
    writeFileSync(path, data.subarray(0, MiB));
    const hasher = new FollowHasher(path, data.length, { MODELCTL_THREADS: '2' });
    try {
      hasher.written(2 * MiB); // more than the file holds yet: the thread's read comes up short
      await new Promise((r) => setTimeout(r, 100));
      appendFileSync(path, data.subarray(MiB));
      expect(await hasher.finish(data.length)).toEqual(expected(path));
      expect(hasher.hashedOnThread).toBe(true);
    } finally {
      hasher.close();
    }
  });

  it('hashes bytes handed over from shared memory without reading the file, after a prefix read from it', async () => {
    const data = randomBytes(PARALLEL_FILE_BYTES + 3 * MiB + 5);
    const path = join(dir, 'memory.partial');
    writeFileSync(path, data.subarray(0, 5 * MiB)); // an earlier attempt's prefix
    const hasher = new FollowHasher(path, data.length, { MODELCTL_THREADS: '2' });
    try {
      expect(hasher.followsMemory).toBe(true);
      hasher.written(5 * MiB);
      const block = Buffer.from(pageAlignedSharedBuffer(4 * MiB));
      // The first piece overlaps the prefix (the thread skips what it has read), as a block
      // that starts where a 4 KiB boundary does, before the resume point.
      for (let at = 5 * MiB - 100; at < data.length; at += 4 * MiB) {
        const n = Math.min(4 * MiB, data.length - at);
        data.copy(block, 0, at, at + n);
        await hasher.hashBytes(block.subarray(0, n), at); // resolves once the memory may be reused
      }
      // The file itself holds only the prefix plus garbage: had the thread read it, the result would differ.
      appendFileSync(path, Buffer.alloc(data.length - 5 * MiB, 1));
      const got = await hasher.finish(data.length);
      writeFileSync(path, data);
      expect(got).toEqual(expected(path));
      expect(hasher.hashedOnThread).toBe(true);
    } finally {
      hasher.close();
    }
  });

  it('bytes handed over out of order make the thread fail: then what the file holds is hashed here', async () => {
    const data = randomBytes(PARALLEL_FILE_BYTES + MiB);
    const path = join(dir, 'gap.partial');
    writeFileSync(path, data);
    const hasher = new FollowHasher(path, data.length, { MODELCTL_THREADS: '2' });
    try {
      const block = Buffer.from(pageAlignedSharedBuffer(MiB));
      data.copy(block, 0, 2 * MiB, 3 * MiB);
      await hasher.hashBytes(block, 2 * MiB); // nothing before it was handed over: a gap
      expect(await hasher.finish(data.length)).toEqual(expected(path));
      expect(hasher.hashedOnThread).toBe(false);
    } finally {
      hasher.close();
    }
  });

  it('falls back to hashing here when its thread fails (the file is shorter than reported when complete)', async () => {
    const data = randomBytes(PARALLEL_FILE_BYTES + MiB);
    const path = join(dir, 'short.partial');
    writeFileSync(path, data.subarray(0, MiB));
    const hasher = new FollowHasher(path, data.length, { MODELCTL_THREADS: '2' });
    try {
      // Reported complete at a length the file does not hold: the thread fails; hashed here
      // is what the file holds.
      expect(await hasher.finish(data.length)).toEqual(expected(path));
      expect(hasher.hashedOnThread).toBe(false);
    } finally {
      hasher.close();
    }
  });
});
