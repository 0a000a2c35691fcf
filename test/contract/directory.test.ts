import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryRemote } from '../../src/remote/directory.js';
import { openRemote } from '../../src/remote/open-remote.js';
import { collect, defineRemoteContract, expectCode } from './remote-contract.js';
import { buildDirectoryWorker, runWorkers, type WorkerBuild } from './directory-worker.js';

let base: string;
let counter = 0;
const freshRoot = (): string => path.join(base, `r${++counter}`);

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'modelctl-dir-remote-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

defineRemoteContract('directory', () => ({
  open: async () => createDirectoryRemote({ root: freshRoot() }),
  expectConditionalWrites: true,
  verifiesChecksums: true,
}));

describe('directory remote across processes', () => {
  let build: WorkerBuild;
  beforeAll(async () => {
    build = await buildDirectoryWorker();
  });
  afterAll(async () => {
    await build?.cleanup();
  });

  it('lets exactly one of 8 processes racing ifAbsent on one key win', async () => {
    const root = freshRoot();
    const results = await runWorkers(
      build,
      Array.from({ length: 8 }, (_, i) => ({ mode: 'race', root, key: 'models/m/numbers/1.json', body: `process ${i}` })),
    );
    const winners = results.flatMap((r, i) => (r.won ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.won).map((r) => r.code)).toEqual(Array(7).fill('PRECONDITION_FAILED'));
    const remote = createDirectoryRemote({ root });
    expect((await remote.get('models/m/numbers/1.json'))!.body.toString()).toBe(`process ${winners[0]}`);
  });

  it('keeps a compare-and-swap counter exact with 4 processes × 10 increments', async () => {
    const root = freshRoot();
    const remote = createDirectoryRemote({ root });
    await remote.put('models/m/stages/production.json', Buffer.from('0'));
    const results = await runWorkers(
      build,
      Array.from({ length: 4 }, () => ({ mode: 'cas', root, key: 'models/m/stages/production.json', increments: 10 })),
    );
    expect(results.map((r) => r.code)).toEqual([null, null, null, null]);
    expect((await remote.get('models/m/stages/production.json'))!.body.toString()).toBe('40');
    // No lock or temp file is left behind next to the key.
    expect(await readdir(path.join(root, 'models/m/stages'))).toEqual(['production.json']);
  });
});

describe('directory remote specifics', () => {
  it('never lists temp, lock or breaker files', async () => {
    const root = freshRoot();
    const remote = createDirectoryRemote({ root });
    await remote.put('models/m/stages/staging.json', Buffer.from('{}'));
    const dir = path.join(root, 'models/m/stages');
    await writeFile(path.join(dir, '.~modelctl-tmp-abc123'), 'half written');
    await writeFile(path.join(dir, '.~modelctl-lock-staging.json'), '{}');
    await writeFile(path.join(dir, '.~modelctl-break-staging.json'), '{}');
    expect((await collect(remote.list(''))).map((o) => o.key)).toEqual(['models/m/stages/staging.json']);
    expect(await collect(remote.listKeys!(''))).toEqual(['models/m/stages/staging.json']);
  });

  it('listKeys, like list, refuses a symbolic link or FIFO planted among the chunks (exit 6)', async () => {
    const root = freshRoot();
    const remote = createDirectoryRemote({ root });
    for (let i = 0; i < 70; i++) await remote.put(`chunks/${String(i).padStart(3, '0')}`, Buffer.from(`c${i}`));
    expect((await collect(remote.listKeys!('chunks/'))).length).toBe(70);
    await symlink('/etc', path.join(root, 'chunks', 'planted'));
    await expectCode(collect(remote.listKeys!('chunks/')), 'REMOTE_NOT_A_FILE');
    await expectCode(collect(remote.list('chunks/')), 'REMOTE_NOT_A_FILE');
    await rm(path.join(root, 'chunks', 'planted'));
    spawnSync('mkfifo', [path.join(root, 'chunks', 'fifo')]);
    await expectCode(collect(remote.listKeys!('chunks/')), 'REMOTE_NOT_A_FILE');
  });

  it('recovers a lock left by a dead process on this host at once', async () => {
    const root = freshRoot();
    const remote = createDirectoryRemote({ root, lockWaitMs: 5_000 });
    const { etag } = await remote.put('s/x.json', Buffer.from('a'));
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(
      path.join(root, 's/.~modelctl-lock-x.json'),
      JSON.stringify({ pid: Number(deadPid), host: hostname(), token: 'dead', created: new Date().toISOString() }),
    );
    const started = Date.now();
    await remote.put('s/x.json', Buffer.from('b'), { condition: { ifMatch: etag } });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await readdir(path.join(root, 's'))).toEqual(['x.json']);
  });

  it('recovers a lock older than the stale limit from another host', async () => {
    const root = freshRoot();
    const remote = createDirectoryRemote({ root, staleLockMs: 30_000, lockWaitMs: 5_000 });
    const { etag } = await remote.put('s/x.json', Buffer.from('a'));
    const lock = path.join(root, 's/.~modelctl-lock-x.json');
    await writeFile(lock, JSON.stringify({ pid: 1, host: 'some-other-host', token: 'old', created: '2020-01-01T00:00:00Z' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await remote.put('s/x.json', Buffer.from('b'), { condition: { ifMatch: etag } });
    expect((await remote.get('s/x.json'))!.body.toString()).toBe('b');
  });

  it('gives up on a live lock with REMOTE_LOCKED (exit 4) and leaves the key alone', async () => {
    const root = freshRoot();
    const remote = createDirectoryRemote({ root, staleLockMs: 30_000, lockWaitMs: 300 });
    const { etag } = await remote.put('s/x.json', Buffer.from('a'));
    await writeFile(
      path.join(root, 's/.~modelctl-lock-x.json'),
      JSON.stringify({ pid: process.pid, host: hostname(), token: 'live', created: new Date().toISOString() }),
    );
    const err = await expectCode(remote.put('s/x.json', Buffer.from('b'), { condition: { ifMatch: etag } }), 'REMOTE_LOCKED');
    expect(err.exitCode).toBe(4);
    expect((await remote.get('s/x.json'))!.body.toString()).toBe('a');
    expect((await readdir(path.join(root, 's'))).filter((n) => n.includes('tmp'))).toEqual([]);
  });

  it('opens through openRemote from a path, a relative path and a file:// URL', async () => {
    const root = freshRoot();
    const writer = await openRemote({ url: root });
    await writer.put('MODELCTL.json', Buffer.from('{"format":1}'));
    const viaUrl = await openRemote({ url: pathToFileURL(root).href });
    expect((await viaUrl.get('MODELCTL.json'))!.body.toString()).toBe('{"format":1}');
    const viaRelative = await openRemote({ url: path.basename(root) }, { cwd: base });
    expect(viaRelative.displayUrl).toBe(root);
    expect(await viaRelative.head('MODELCTL.json')).not.toBeNull();
    await expectCode(openRemote({ url: root, endpoint: 'http://127.0.0.1:1' }), 'INVALID_REMOTE_OPTION');
  });

  it('reads an absent root as empty and creates it on the first write', async () => {
    const root = path.join(freshRoot(), 'not', 'yet');
    const remote = createDirectoryRemote({ root });
    expect(await collect(remote.list(''))).toEqual([]);
    expect(await remote.get('a')).toBeNull();
    await remote.put('a', Buffer.from('x'));
    expect(await readdir(root)).toEqual(['a']);
  });

  it('maps a read-only folder to REMOTE_ACCESS_DENIED (exit 7)', async (ctx) => {
    if (process.getuid?.() === 0) {
      ctx.skip('root ignores file permissions');
      return;
    }
    const root = freshRoot();
    const remote = createDirectoryRemote({ root });
    await remote.put('a', Buffer.from('x'));
    const { chmod } = await import('node:fs/promises');
    await chmod(root, 0o555);
    try {
      const err = await expectCode(remote.put('b', Buffer.from('y')), 'REMOTE_ACCESS_DENIED');
      expect(err.exitCode).toBe(7);
    } finally {
      await chmod(root, 0o755);
    }
  });
});

describe('directory remote leftovers (temp files of killed writes, for remote gc)', () => {
  it('lists only its temp files, with their times, and deletes nothing but a temp file', async () => {
    const root = freshRoot();
    const remote = createDirectoryRemote({ root });
    await remote.put('chunks/aa', Buffer.from('chunk'));
    await remote.put('models/m/tags/t.json', Buffer.from('{}'));
    await mkdir(path.join(root, 'models/m/stages'), { recursive: true });
    await writeFile(path.join(root, 'chunks/.~modelctl-tmp-abc'), 'partial');
    await writeFile(path.join(root, 'models/m/tags/.~modelctl-tmp-def'), 'x');
    await writeFile(path.join(root, 'models/m/stages/.~modelctl-lock-production.json'), 'lock');
    const old = new Date(Math.floor(Date.now() / 1000) * 1000 - 7_200_000); // whole seconds: utimes rounds finer parts
    await utimes(path.join(root, 'chunks/.~modelctl-tmp-abc'), old, old);

    const found = (await collect(remote.leftovers!())).sort((a, b) => (a.key < b.key ? -1 : 1));
    expect(found.map((o) => [o.key, o.size])).toEqual([['chunks/.~modelctl-tmp-abc', 7], ['models/m/tags/.~modelctl-tmp-def', 1]]);
    expect(found[0].lastModified!.getTime()).toBe(old.getTime());
    // The ordinary listing still never shows them.
    expect((await collect(remote.list(''))).map((o) => o.key).sort()).toEqual(['chunks/aa', 'models/m/tags/t.json']);

    for (const bad of ['chunks/aa', 'models/m/stages/.~modelctl-lock-production.json', '../x/.~modelctl-tmp-abc', '/etc/.~modelctl-tmp-abc']) {
      await expectCode(remote.deleteLeftover!(bad), 'INVALID_REMOTE_KEY');
    }
    await remote.deleteLeftover!('chunks/.~modelctl-tmp-abc');
    await remote.deleteLeftover!('chunks/.~modelctl-tmp-abc'); // absent: fine
    expect((await readdir(path.join(root, 'chunks'))).sort()).toEqual(['aa']);
    expect((await readdir(path.join(root, 'models/m/stages')))).toEqual(['.~modelctl-lock-production.json']);
  });
});
