/**
 * A multi-GiB sparse file through push and pull over a directory remote (a long test: runs in
 * `npm run test:full`). Its zero chunks dedup to one upload, and the pulled file is
 * byte-identical. MODELCTL_TEST_SPARSE_BYTES sets the size.
 */
import { closeSync, openSync, readSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCliAsync } from './lifecycle-helpers.js';

function sha256File(p: string): string {
  // Synchronous, bounded memory: read in 8 MiB slices.
  const h = createHash('sha256');
  const fd = openSync(p, 'r');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

describe('large and sparse files', () => {
  it('a multi-GiB sparse file round-trips byte-identical (its zero chunks dedup to one upload)', async () => {
    // Async runs: a blocking spawnSync of a minute-long command would starve vitest's worker RPC.
    const size = Number(process.env.MODELCTL_TEST_SPARSE_BYTES ?? 2 * 1024 * 1024 * 1024 + 4097);
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    const p = join(a, 'sparse.bin');
    writeFileSync(p, '');
    truncateSync(p, size);
    writeFile(a, 'tail.txt', 'end');
    const long = { timeoutMs: 540_000 };
    expect((await runCliAsync(a, ['commit', 'big', 'sparse.bin', 'tail.txt'], long)).code).toBe(0);
    const pushed = await runCliAsync(a, ['push', '--remote', remote, '--json'], long);
    expect(pushed.code).toBe(0);
    expect(JSON.parse(pushed.stdout).chunks.uploaded).toBeLessThanOrEqual(3);
    const ci = tempDir();
    expect((await runCliAsync(ci, ['pull', 'big', '--remote', remote, '--out', 'o'], long)).code).toBe(0);
    expect(statSync(join(ci, 'o/sparse.bin')).size).toBe(size);
    expect(sha256File(join(ci, 'o/sparse.bin'))).toBe(sha256File(p));
  }, 600_000);
});
