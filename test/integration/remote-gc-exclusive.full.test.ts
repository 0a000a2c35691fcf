/**
 * One remote gc at a time (docs/design.md §16, README "Retention"): a second gc exits 4
 * (GC_RUNNING) while the first holds gc/state.json; a gc that died is taken over — at once
 * when it was a process of this host, after its lease when it ran elsewhere (no pid to
 * check there); a store that ignores conditional writes is refused (exit 2).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { runCli, runCliAsync, tempDir, tempRepo } from '../helpers/temp-repo.js';
import { addOrigin, bytes, commitFiles, gcOperator, type RemoteTarget } from './remote-gc-helpers.js';

function folderTarget(): RemoteTarget {
  return { url: join(tempDir('modelctl-remote-'), 'r'), env: {}, addArgs: [] };
}

/** A remote with three pushed versions of `m`; the operator's policy lets v1 go. */
function pushedRemote(t: RemoteTarget): { gc: string } {
  const a = tempRepo();
  addOrigin(a, t);
  for (let i = 1; i <= 3; i++) commitFiles(a, 'm', { 'w.bin': bytes(20_000, i) });
  expect(runCli(a, ['push'], { env: t.env }).code).toBe(0);
  return { gc: gcOperator(t, 'm', { keep_last: 2 }) };
}

const gcArgs = ['gc', '--remote', 'origin', '--grace', '0s', '--yes', '--json'];

describe('one remote gc at a time (folder)', () => {
  it('a second gc exits 4 while the first holds the state; a killed gc of this host is taken over at once', async () => {
    const t = folderTarget();
    const { gc } = pushedRemote(t);
    const barriers = new Barriers();
    barriers.arm('gc-remote-mark');
    // A long lease: the first gc is stopped (synchronously) at the barrier and renews nothing.
    const env = { ...barriers.env, MODELCTL_REMOTE_GC_LEASE_MS: '60000' };
    const first = runCliAsync(gc, gcArgs, { env, timeoutMs: 60_000 });
    await barriers.reached('gc-remote-mark');
    const second = runCli(gc, gcArgs, { env: { MODELCTL_REMOTE_GC_LEASE_MS: '60000' } });
    expect(second.code).toBe(4);
    expect(second.error().code).toBe('GC_RUNNING');
    barriers.release('gc-remote-mark');
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).removedVersions.map((v: { number: number }) => v.number)).toEqual([1]);

    // Killed while holding the state: the next gc on this host sees a dead pid and goes on.
    const b2 = new Barriers();
    b2.arm('gc-remote-mark');
    const victim = runCliAsync(gc, gcArgs, { env: { ...b2.env, MODELCTL_REMOTE_GC_LEASE_MS: '60000' }, timeoutMs: 60_000 });
    await b2.reached('gc-remote-mark');
    process.kill(b2.pid('gc-remote-mark'), 'SIGKILL');
    await victim;
    const after = runCli(gc, gcArgs, { env: { MODELCTL_REMOTE_GC_LEASE_MS: '60000' } });
    expect(after.code, after.stderr).toBe(0);
  }, 120_000);

  it('a gc that died on another host blocks the next gc only until its lease has run out', () => {
    const t = folderTarget();
    const { gc } = pushedRemote(t);
    // The document a gc on another machine left when it died while marking, 1.5 s lease.
    const statePath = join(t.url, 'gc', 'state.json');
    const plant = (at: Date) => {
      const doc = { format: 1, epoch: 0, phase: 'mark', owner: { host: 'another-host.example', pid: 1, token: 'a'.repeat(24), actor: 'ci@elsewhere' }, lease_ms: 1500, at: at.toISOString() };
      try {
        chmodSync(statePath, 0o644);
      } catch {
        // not there yet
      }
      writeFileSync(statePath, JSON.stringify(doc));
    };
    mkdirSync(join(t.url, 'gc'), { recursive: true });
    // Just written: taken as running, refused at once.
    plant(new Date());
    const refused = runCli(gc, gcArgs);
    expect(refused.code).toBe(4);
    expect(refused.error().code).toBe('GC_RUNNING');
    // Not renewed for longer than its lease: the next gc watches it for a lease by its own
    // clock, sees no renewal, takes it over and does its work.
    plant(new Date(Date.now() - 10_000));
    const t0 = Date.now();
    const took = runCli(gc, gcArgs);
    expect(took.code, took.stderr).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(took.json<{ removedVersions: { number: number }[] }>().removedVersions.map((v) => v.number)).toEqual([1]);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { phase: string };
    expect(state.phase).toBe('idle');
  }, 120_000);
});

describe('remote gc needs conditional writes', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    // A child process: runCli blocks this worker (spawnSync), so an in-process server could not answer.
    s3 = await startS3rver({ bucket: 'registry', forceChild: true });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('refuses s3rver, which ignores If-Match / If-None-Match (exit 2), deleting nothing', () => {
    const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
    const t: RemoteTarget = { url: 's3://registry/team', env, addArgs: ['--endpoint', s3.endpoint] };
    const { gc } = pushedRemote(t);
    const r = runCli(gc, gcArgs, { env });
    expect(r.code).toBe(2);
    expect(r.error().code).toBe('GC_UNSAFE_REMOTE');
    const ls = runCli(gc, ['log', 'm', '--remote', 'origin', '--json'], { env });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json<{ versions: { number: number }[] }>().versions.map((v) => v.number).sort()).toEqual([1, 2, 3]);
  }, 120_000);

  it('rm there removes the version but warns that a removal racing it is not detected; on a folder it does not warn', () => {
    const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
    const rmArgs = ['rm', 'm@v1', '--remote', 'origin', '--reason', 'leaked test data', '--yes'];
    const s3Target: RemoteTarget = { url: 's3://registry/rm-warning', env, addArgs: ['--endpoint', s3.endpoint] };
    const onS3 = runCli(pushedRemote(s3Target).gc, rmArgs, { env });
    expect(onS3.code, onS3.stderr).toBe(0);
    expect(onS3.stdout).toContain('Removed m@v1');
    expect(onS3.stderr).toMatch(/s3:\/\/registry\/rm-warning ignores conditional writes: a removal of the same version by someone else at the same moment is not detected/);
    const json = runCli(pushedRemote({ ...s3Target, url: 's3://registry/rm-warning-json' }).gc, [...rmArgs, '--json'], { env });
    expect(json.code, json.stderr).toBe(0);
    expect(json.json<{ removed: boolean; warnings: string[] }>()).toMatchObject({ removed: true, warnings: [expect.stringContaining('ignores conditional writes')] });
    const onFolder = runCli(pushedRemote(folderTarget()).gc, rmArgs);
    expect(onFolder.code, onFolder.stderr).toBe(0);
    expect(onFolder.stderr).not.toContain('conditional writes');
  }, 120_000);
});
