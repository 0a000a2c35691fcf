/**
 * gc racing commit (issue 10, item 1): a commit that reuses an object no version names yet
 * (left by an aborted commit, reused through the stat cache or through ingest) must never
 * be recorded over bytes a concurrent gc deletes. Each interleaving is forced: by a third
 * process holding the index's write lock while commit and gc queue behind it, and by the
 * test barriers of src/store/test-barrier.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Barriers, holdIndexLock } from '../helpers/barriers.js';
import { pseudoRandomBytes, runCli, runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

const GC_NOW = { MODELCTL_GC_GRACE_SECONDS: '0' };

/**
 * A repository with m@v1 and a leftover object: `b.bin` was stored by a commit that then
 * failed (its message is too long to record), so its object has a row and a stat cache
 * entry, and no version names it.
 */
function repoWithLeftover(): { repo: string; b: Buffer } {
  const repo = tempRepo();
  writeFile(repo, 'a.bin', pseudoRandomBytes(300_000, 1));
  expect(runCli(repo, ['commit', 'm', 'a.bin', '-m', 'one']).code).toBe(0);
  const b = pseudoRandomBytes(600_000, 2);
  writeFile(repo, 'b.bin', b);
  expect(runCli(repo, ['commit', 'm', 'b.bin', '-m', 'x'.repeat(70_000)]).code).toBe(2);
  expect(objectCount(repo)).toBe(2);
  return { repo, b };
}

function objectCount(repo: string): number {
  const dir = join(repo, '.modelctl', 'objects');
  return readdirSync(dir).reduce((n, d) => n + readdirSync(join(dir, d)).length, 0);
}

function manifestCount(repo: string): number {
  const dir = join(repo, '.modelctl', 'manifests');
  return readdirSync(dir).reduce((n, d) => n + readdirSync(join(dir, d)).length, 0);
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Every acknowledged version is intact: verify is clean and m@latest checks out byte-identical. */
function assertIntact(repo: string, b: Buffer): void {
  const v = runCli(repo, ['verify', '--json']);
  expect(v.code, v.stdout + v.stderr).toBe(0);
  const out = tempDir();
  const c = runCli(repo, ['checkout', 'm@v2', '--out', out]);
  expect(c.code, c.stderr).toBe(0);
  expect(readFileSync(join(out, 'b.bin')).equals(b)).toBe(true);
}

describe('gc and commit racing', () => {
  it('commit and gc queued behind a third process holding the write lock: the version keeps its bytes', async () => {
    const { repo, b } = repoWithLeftover();
    const lock = await holdIndexLock(join(repo, '.modelctl', 'index.db'));
    const manifests = manifestCount(repo);
    // The commit reuses the leftover through the stat cache and writes its manifest, then
    // queues for the lock to record its version.
    const commit = runCliAsync(repo, ['commit', 'm', 'b.bin', '--json'], { timeoutMs: 60_000 });
    await until('the commit to write its manifest', () => manifestCount(repo) > manifests);
    // gc queues too; before the fix it had already decided (outside any transaction) that
    // the leftover is garbage.
    const gc = runCliAsync(repo, ['gc', '--json'], { env: GC_NOW, timeoutMs: 60_000 });
    await sleep(1500);
    await lock.release();
    const [c, g] = await Promise.all([commit, gc]);
    expect(c.code, c.stderr).toBe(0);
    expect(g.code, g.stderr).toBe(0);
    assertIntact(repo, b);
  });

  it('gc runs to the end between commit deciding to reuse an object and recording its version', async () => {
    const { repo, b } = repoWithLeftover();
    const barriers = new Barriers();
    barriers.arm('commit-after-hash');
    const commit = runCliAsync(repo, ['commit', 'm', 'b.bin', '--json'], { env: barriers.env, timeoutMs: 60_000 });
    await barriers.reached('commit-after-hash');
    const g = runCli(repo, ['gc', '--json'], { env: GC_NOW });
    expect(g.code, g.stderr).toBe(0);
    expect(g.json().deleted.length).toBe(1); // the leftover, not yet named by any version or manifest
    barriers.release('commit-after-hash');
    const c = await commit;
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).version.ref).toBe('m@v2');
    assertIntact(repo, b);
  });

  it('a manifest written and not yet indexed keeps its objects from gc', async () => {
    const { repo, b } = repoWithLeftover();
    const barriers = new Barriers();
    barriers.arm('commit-before-record');
    const commit = runCliAsync(repo, ['commit', 'm', 'b.bin', '--json'], { env: barriers.env, timeoutMs: 60_000 });
    await barriers.reached('commit-before-record');
    const g = runCli(repo, ['gc', '--json'], { env: GC_NOW });
    expect(g.code, g.stderr).toBe(0);
    expect(g.json().deleted).toEqual([]);
    barriers.release('commit-before-record');
    const c = await commit;
    expect(c.code, c.stderr).toBe(0);
    assertIntact(repo, b);
  });

  it('commit records while gc has decided and not yet deleted the files (stat cache reuse)', async () => {
    const { repo, b } = repoWithLeftover();
    const barriers = new Barriers();
    barriers.arm('gc-before-unlink');
    const gc = runCliAsync(repo, ['gc', '--json'], { env: { ...GC_NOW, ...barriers.env }, timeoutMs: 60_000 });
    await barriers.reached('gc-before-unlink');
    const commit = runCliAsync(repo, ['commit', 'm', 'b.bin', '--json'], { timeoutMs: 60_000 });
    // The commit may not finish while the gc still has to delete what it reuses.
    await sleep(1500);
    barriers.release('gc-before-unlink');
    const [c, g] = await Promise.all([commit, gc]);
    expect(g.code, g.stderr).toBe(0);
    expect(c.code, c.stderr).toBe(0);
    assertIntact(repo, b);
  });

  it('commit records while gc has decided and not yet deleted the files (ingest finds the object present)', async () => {
    const { repo, b } = repoWithLeftover();
    // Same bytes under another name: the stat cache does not know it, so commit hashes it
    // and finds its object already stored (and drops its own copy).
    writeFile(repo, 'copy/b.bin', b);
    const barriers = new Barriers();
    barriers.arm('gc-before-unlink');
    const gc = runCliAsync(repo, ['gc', '--json'], { env: { ...GC_NOW, ...barriers.env }, timeoutMs: 60_000 });
    await barriers.reached('gc-before-unlink');
    const commit = runCliAsync(repo, ['commit', 'm', 'copy/b.bin', '--json'], { timeoutMs: 60_000 });
    await sleep(1500);
    barriers.release('gc-before-unlink');
    const [c, g] = await Promise.all([commit, gc]);
    expect(g.code, g.stderr).toBe(0);
    expect(c.code, c.stderr).toBe(0);
    expect(runCli(repo, ['verify']).code).toBe(0);
    const out = tempDir();
    expect(runCli(repo, ['checkout', 'm@v2', '--out', out]).code).toBe(0);
    expect(readFileSync(join(out, 'copy', 'b.bin')).equals(b)).toBe(true);
  });

  it('commit queues behind a gc that holds the lock while deciding', async () => {
    const { repo, b } = repoWithLeftover();
    const barriers = new Barriers();
    barriers.arm('gc-decided');
    const gc = runCliAsync(repo, ['gc', '--json'], { env: { ...GC_NOW, ...barriers.env }, timeoutMs: 60_000 });
    await barriers.reached('gc-decided');
    const manifests = manifestCount(repo);
    const commit = runCliAsync(repo, ['commit', 'm', 'b.bin', '--json'], { timeoutMs: 60_000 });
    await until('the commit to write its manifest', () => manifestCount(repo) > manifests);
    barriers.release('gc-decided');
    const [c, g] = await Promise.all([commit, gc]);
    expect(g.code, g.stderr).toBe(0);
    expect(c.code, c.stderr).toBe(0);
    assertIntact(repo, b);
  });

  it('a gc started before the commit and deciding after it keeps the version\'s objects', async () => {
    const { repo, b } = repoWithLeftover();
    const barriers = new Barriers();
    barriers.arm('gc-start');
    const gc = runCliAsync(repo, ['gc', '--json'], { env: { ...GC_NOW, ...barriers.env }, timeoutMs: 60_000 });
    await barriers.reached('gc-start');
    const c = runCli(repo, ['commit', 'm', 'b.bin', '--json']);
    expect(c.code, c.stderr).toBe(0);
    barriers.release('gc-start');
    const g = await gc;
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout && JSON.parse(g.stdout).deleted).toEqual([]);
    assertIntact(repo, b);
  });

  it('a gc killed between its transaction and its deletes blocks nobody', async () => {
    const { repo, b } = repoWithLeftover();
    const barriers = new Barriers();
    barriers.arm('gc-before-unlink');
    const gc = runCliAsync(repo, ['gc', '--json'], { env: { ...GC_NOW, ...barriers.env }, timeoutMs: 60_000 });
    await barriers.reached('gc-before-unlink');
    const pid = barriers.pid('gc-before-unlink');
    process.kill(pid, 'SIGKILL');
    await gc;
    const c = runCli(repo, ['commit', 'm', 'b.bin', '--json']);
    expect(c.code, c.stderr).toBe(0);
    assertIntact(repo, b);
  });
});
