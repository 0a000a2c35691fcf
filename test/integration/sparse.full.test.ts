/**
 * Sparse files (issue 10, item 6): holes are stored as holes — in the store, where checkout
 * places the file, and where pull rebuilds it — so a mostly empty 50 GB file never fills a
 * disk with zeros; and the zero chunks of a hole are not even downloaded.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, runCli, tempDir, tempRepo } from '../helpers/temp-repo.js';

const MiB = 1024 * 1024;

/** A sparse file of `size` with 1 MiB of data at each of `at` (MiB offsets). */
function sparseFile(path: string, size: number, at: number[]): Buffer[] {
  execFileSync('truncate', ['-s', String(size), path]);
  const fd = openSync(path, 'r+');
  const data = at.map((mib, i) => {
    const b = pseudoRandomBytes(MiB, i + 7);
    writeSync(fd, b, 0, b.length, mib * MiB);
    return b;
  });
  closeSync(fd);
  return data;
}

/** Bytes a file really takes on disk. */
function allocated(path: string): number {
  return statSync(path).blocks * 512;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function objectPaths(repo: string): string[] {
  const dir = join(repo, '.modelctl', 'objects');
  return readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)).map((f) => join(dir, d, f)));
}

function ok(repo: string, args: string[], env: Record<string, string> = {}) {
  const r = runCli(repo, args, { env });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

describe('sparse files', () => {
  // 64 MiB goes through the parallel pipeline (32 MiB and more); MODELCTL_THREADS=1 through the single thread.
  for (const threads of ['0', '1']) {
    it(`a 64 MiB file with 3 MiB of data is stored as holes, checked out and pulled as holes (MODELCTL_THREADS=${threads === '0' ? 'default' : threads})`, () => {
      const env: Record<string, string> = threads === '1' ? { MODELCTL_THREADS: '1' } : {};
      const repo = tempRepo();
      const file = join(repo, 'model.bin');
      sparseFile(file, 64 * MiB, [0, 30, 63]);
      const digest = sha256File(file);
      ok(repo, ['commit', 'm', 'model.bin'], env);
      const [object] = objectPaths(repo);
      expect(statSync(object).size).toBe(64 * MiB);
      expect(allocated(object)).toBeLessThan(8 * MiB);
      ok(repo, ['verify']);

      // checkout --link copy writes it sparsely, verified.
      const out = tempDir();
      ok(repo, ['checkout', 'm@v1', '--out', out, '--link', 'copy'], env);
      expect(sha256File(join(out, 'model.bin'))).toBe(digest);
      expect(allocated(join(out, 'model.bin'))).toBeLessThan(8 * MiB);

      // Through a folder remote: pull downloads the data chunks only and rebuilds the holes.
      const remote = tempDir();
      ok(repo, ['remote', 'add', 'origin', remote, '--default']);
      ok(repo, ['push']);
      const clone = tempRepo();
      ok(clone, ['remote', 'add', 'origin', remote, '--default']);
      const pulled = ok(clone, ['pull', 'm@v1', '--json', '--link', 'copy'], env).json();
      expect(pulled.download.bytesDownloaded).toBeLessThan(16 * MiB);
      expect(sha256File(join(clone, 'model.bin'))).toBe(digest);
      expect(allocated(join(clone, 'model.bin'))).toBeLessThan(16 * MiB);
      for (const o of objectPaths(clone)) expect(allocated(o)).toBeLessThan(16 * MiB);
      ok(clone, ['verify']);
    });
  }

  it('a small file of zeros is a hole too, and dense data is stored whole', () => {
    const repo = tempRepo();
    execFileSync('truncate', ['-s', String(4 * MiB), join(repo, 'zeros.bin')]);
    const dense = pseudoRandomBytes(2 * MiB, 3);
    execFileSync('sh', ['-c', `cat > ${join(repo, 'dense.bin')}`], { input: dense });
    ok(repo, ['commit', 'm', 'zeros.bin', 'dense.bin']);
    const sizes = objectPaths(repo).map((p) => ({ size: statSync(p).size, allocated: allocated(p) }));
    const zeros = sizes.find((s) => s.size === 4 * MiB)!;
    const whole = sizes.find((s) => s.size === 2 * MiB)!;
    expect(zeros.allocated).toBeLessThan(64 * 1024);
    expect(whole.allocated).toBeGreaterThanOrEqual(2 * MiB);
    ok(repo, ['verify']);
  });
});
