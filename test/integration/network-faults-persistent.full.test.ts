/**
 * Failures that outlast the retries, through the fault proxy (test/helpers/fault-proxy.ts)
 * in front of s3rver: a store that throttles or fails forever, and a connection that
 * stalls, truncates or resets every answer. Each command must end with exit 7 and an error
 * naming the operation and key that failed (`PUT chunks/…`, `GET chunks/…`), within a
 * bounded time (socket timeouts, never a hang), and succeed once the store recovers.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTally, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { MiB, expectOk, jsonError, s3Env as envFor } from '../helpers/fault-scenario.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { pseudoRandomBytes, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCliAsync } from './lifecycle-helpers.js';

let s3: S3rverHandle;
let proxy: FaultProxy;
beforeAll(async () => {
  s3 = await startS3rver({ bucket: 'faulty' });
  proxy = await startFaultProxy({ upstream: s3.endpoint, seed: 1, rate: 0 });
});
afterAll(async () => {
  console.log(`[network-faults-persistent] ${formatTally(proxy.tally())}`);
  await proxy?.stop();
  await s3?.stop();
});

const s3Env = (extra: Record<string, string> = {}) => envFor(s3, extra);

describe('failures that outlast the retries (s3rver)', () => {
  const prefix = `persistent-${randomBytes(3).toString('hex')}`;

  const commitSmall = async (dir: string, seed: number) => {
    writeFile(dir, 'm/w.bin', pseudoRandomBytes(3 * MiB, seed));
    expectOk(await runCliAsync(dir, ['commit', 'persist', 'm', '-m', `seed ${seed}`]), 'commit');
  };

  it('503 SlowDown forever on chunk uploads: push exits 7 naming PUT chunks/…, and the same push succeeds once the store recovers', async () => {
    const repo = tempRepo();
    await commitSmall(repo, 1);
    expectOk(await runCliAsync(repo, ['remote', 'add', 'origin', `s3://faulty/${prefix}`, '--endpoint', proxy.endpoint, '--default']), 'remote add');
    proxy.setPersistent({ kind: 'slowdown', match: (r) => r.method === 'PUT' && r.url.includes('/chunks/') });
    const started = Date.now();
    const r = await runCliAsync(repo, ['push', '--json'], { env: s3Env({ MODELCTL_S3_MAX_ATTEMPTS: '3' }), timeoutMs: 90_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(7);
    const err = jsonError(r);
    expect(err.code).toBe('REMOTE_THROTTLED');
    expect(err.message).toMatch(/^PUT chunks\/[0-9a-f]{64}: /);
    expect(Date.now() - started).toBeLessThan(60_000);
    proxy.setPersistent(null);
    expectOk(await runCliAsync(repo, ['push'], { env: s3Env() }), 'push after the store recovered');
  });

  it('500 forever on chunk downloads: pull exits 7 naming GET chunks/…', async () => {
    const b = tempRepo();
    expectOk(await runCliAsync(b, ['remote', 'add', 'origin', `s3://faulty/${prefix}`, '--endpoint', proxy.endpoint, '--default']), 'remote add');
    proxy.setPersistent({ kind: 'error-500', match: (r) => r.method === 'GET' && r.url.includes('/chunks/') });
    const r = await runCliAsync(b, ['pull', 'persist', '--json', '--out', 'o'], { env: s3Env({ MODELCTL_S3_MAX_ATTEMPTS: '3' }), timeoutMs: 90_000 });
    proxy.setPersistent(null);
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(7);
    const err = jsonError(r);
    expect(err.code).toBe('REMOTE_UNAVAILABLE');
    expect(err.message).toMatch(/^GET chunks\/[0-9a-f]{64}: .*(InternalError|HTTP 500)/);
    // The store recovers: the same pull completes.
    expectOk(await runCliAsync(b, ['pull', 'persist', '--out', 'o'], { env: s3Env() }), 'pull after recovery');
    expect(readFileSync(join(b, 'o/m/w.bin')).equals(pseudoRandomBytes(3 * MiB, 1))).toBe(true);
  });

  for (const kind of ['stall', 'truncate', 'reset-mid-body', 'stall-mid-body'] as const) {
    it(`${kind} on every chunk download: pull times out or fails, retries, then exits 7 naming GET chunks/… — never hangs`, async () => {
      const b = tempRepo();
      expectOk(await runCliAsync(b, ['remote', 'add', 'origin', `s3://faulty/${prefix}`, '--endpoint', proxy.endpoint, '--default']), 'remote add');
      proxy.setPersistent({ kind, match: (r) => r.method === 'GET' && r.url.includes('/chunks/') });
      const started = Date.now();
      const r = await runCliAsync(b, ['pull', 'persist', '--json', '--out', 'o', '--jobs', '2'], {
        env: s3Env({ MODELCTL_S3_MAX_ATTEMPTS: '2', MODELCTL_S3_SOCKET_TIMEOUT_MS: '800' }),
        timeoutMs: 60_000,
      });
      proxy.setPersistent(null);
      expect(r.timedOut, 'pull hung').toBe(false);
      expect(r.code, r.stderr).toBe(7);
      const err = jsonError(r);
      expect(err.message).toMatch(/^GET chunks\/[0-9a-f]{64}: /);
      expect(Date.now() - started).toBeLessThan(30_000);
    });
  }

  it('every chunk upload reset while its body is still arriving: push exits 7 naming PUT chunks/…', async () => {
    const c = tempRepo();
    await commitSmall(c, 3);
    expectOk(await runCliAsync(c, ['remote', 'add', 'origin', `s3://faulty/${prefix}-upload`, '--endpoint', proxy.endpoint, '--default']), 'remote add');
    proxy.setPersistent({ kind: 'reset-mid-request', match: (r) => r.method === 'PUT' && r.url.includes('/chunks/') });
    const r = await runCliAsync(c, ['push', '--json'], { env: s3Env({ MODELCTL_S3_MAX_ATTEMPTS: '3' }), timeoutMs: 60_000 });
    proxy.setPersistent(null);
    expect(r.timedOut, 'push hung').toBe(false);
    expect(r.code, r.stderr).toBe(7);
    const err = jsonError(r);
    expect(err.code).toBe('REMOTE_UNAVAILABLE');
    expect(err.message).toMatch(/^PUT chunks\/[0-9a-f]{64}: .*after 3 attempts/);
  });

  it('a server that accepts and never answers: push exits 7 after the socket timeouts, never hangs', async () => {
    const c = tempRepo();
    await commitSmall(c, 2);
    expectOk(await runCliAsync(c, ['remote', 'add', 'origin', `s3://faulty/${prefix}-stall`, '--endpoint', proxy.endpoint, '--default']), 'remote add');
    proxy.setPersistent({ kind: 'stall', match: () => true });
    const started = Date.now();
    const r = await runCliAsync(c, ['push', '--json'], { env: s3Env({ MODELCTL_S3_MAX_ATTEMPTS: '2', MODELCTL_S3_SOCKET_TIMEOUT_MS: '800' }), timeoutMs: 60_000 });
    proxy.setPersistent(null);
    expect(r.timedOut, 'push hung').toBe(false);
    expect(r.code, r.stderr).toBe(7);
    const err = jsonError(r);
    expect(err.code).toBe('REMOTE_UNAVAILABLE');
    expect(err.message).toMatch(/^(GET|PUT|HEAD) \S+: .*(timed out|TimeoutError)/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a malformed timeout setting is a usage error (exit 2) naming the variable', async () => {
    const repo = tempRepo();
    expectOk(await runCliAsync(repo, ['remote', 'add', 'origin', `s3://faulty/${prefix}`, '--endpoint', proxy.endpoint, '--default']), 'remote add');
    const r = await runCliAsync(repo, ['push', '--json'], { env: s3Env({ MODELCTL_S3_SOCKET_TIMEOUT_MS: 'soon' }) });
    expect(r.code, r.stderr).toBe(2);
    expect(jsonError(r).message).toMatch(/MODELCTL_S3_SOCKET_TIMEOUT_MS/);
  });
});
