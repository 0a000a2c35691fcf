/**
 * The push/pull-through-faults scenario shared by the network-fault suites (s3rver, RGW):
 * a repository commits a large model (plus small files, an empty one, a tag and a stage),
 * pushes it through the fault proxy and promotes it with --push, and a second repository
 * and a repository-less CI pull take it back through the same proxy, byte-identical.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCliAsync, type AsyncRun } from './temp-repo.js';
import { FAULT_KINDS, formatTally, type FaultKind, type FaultProxy } from './fault-proxy.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from './temp-repo.js';

export const MiB = 1024 * 1024;

/** Where the S3 server is and who we are to it. */
export interface S3Target {
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The environment of a CLI run against `target`: its credentials, short timeouts, nothing inherited that could interfere. */
export function s3Env(target: S3Target, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: target.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: target.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: target.region,
    AWS_ENDPOINT_URL_S3: undefined,
    AWS_ENDPOINT_URL: undefined,
    // A stall costs a second, not a minute.
    MODELCTL_S3_SOCKET_TIMEOUT_MS: '1000',
    MODELCTL_S3_CONNECT_TIMEOUT_MS: '2000',
    ...extra,
  };
}

/** Fails the test with the command's stderr unless it exited 0 in time. */
export function expectOk(r: AsyncRun, what: string): void {
  expect(r.timedOut, `${what} hung`).toBe(false);
  expect(r.code, `${what} failed:\n${r.stderr}`).toBe(0);
}

/** The last line of stderr of a --json run: its error document. */
export function jsonError(r: AsyncRun): { code: string; message: string; hint: string | null; exitCode: number } {
  return JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}').error;
}

/** Writes `n` bytes of seeded pseudo-random data in 16 MiB pieces (never a 1 GiB buffer); returns their sha256. */
export function writeBigFile(path: string, n: number, seed: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let done = 0, i = 0; done < n; i++) {
      const piece = pseudoRandomBytes(Math.min(16 * MiB, n - done), seed + i);
      writeSync(fd, piece);
      hash.update(piece);
      done += piece.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** sha256 of a file, read in pieces. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 * MiB);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Faults summed over several proxies. */
export type Tally = Record<FaultKind | 'total' | 'requests', number>;

export function emptyTally(): Tally {
  return Object.fromEntries([...FAULT_KINDS, 'total', 'requests'].map((k) => [k, 0])) as Tally;
}

export function addTally(into: Tally, proxy: FaultProxy): void {
  const t = proxy.tally();
  for (const k of Object.keys(into) as (keyof Tally)[]) into[k] += t[k];
}

/**
 * One trial: commit `bytes` of model in a fresh repository, push it through `proxy` to
 * s3://<bucket>/<prefix>, pull it back into a second repository and repository-less (CI),
 * and check every byte. Returns a one-line description of the faults seen.
 */
export async function pushPullThroughFaults(opts: {
  proxy: FaultProxy;
  target: S3Target;
  prefix: string;
  bytes: number;
  seed: number;
  commandTimeoutMs: number;
}): Promise<string> {
  const { proxy, target, prefix, bytes, seed, commandTimeoutMs } = opts;
  const url = `s3://${target.bucket}/${prefix}`;
  const env = s3Env(target);
  const a = tempRepo();
  const bigDigest = writeBigFile(writeFile(a, 'model/weights.bin', ''), bytes, seed);
  writeFile(a, 'model/config.json', JSON.stringify({ seed }));
  writeFile(a, 'model/empty', '');
  for (let i = 0; i < 20; i++) writeFile(a, `model/vocab/${i}.txt`, `token ${i} ${seed}\n`);
  expectOk(await runCliAsync(a, ['commit', 'net', 'model', '-m', 'faulty', '--tag', 'candidate'], { timeoutMs: commandTimeoutMs }), 'commit');
  expectOk(await runCliAsync(a, ['promote', 'net@v1', '--to', 'staging', '--yes'], { timeoutMs: 30_000 }), 'promote');
  expectOk(await runCliAsync(a, ['remote', 'add', 'origin', url, '--endpoint', proxy.endpoint, '--default']), 'remote add');

  const pushed = await runCliAsync(a, ['push', '--json'], { env, timeoutMs: commandTimeoutMs });
  expectOk(pushed, 'push');
  expect(JSON.parse(pushed.stdout).versions[0]).toMatchObject({ ref: 'net@v1', status: 'uploaded' });
  // A stage move straight onto the remote (fetch, compare-and-swap, event) through the same faults.
  expectOk(await runCliAsync(a, ['promote', 'net@v1', '--to', 'production', '--yes', '--push'], { env, timeoutMs: commandTimeoutMs }), 'promote --push');
  const afterPush = proxy.tally();

  // A second repository pulls through the same faults.
  const b = tempRepo();
  expectOk(await runCliAsync(b, ['remote', 'add', 'origin', url, '--endpoint', proxy.endpoint, '--default']), 'remote add');
  expectOk(await runCliAsync(b, ['pull', 'net@candidate', '--out', 'restored'], { env, timeoutMs: commandTimeoutMs }), 'pull');
  expect(sha256File(join(b, 'restored/model/weights.bin'))).toBe(bigDigest);
  expect(readFileSync(join(b, 'restored/model/vocab/19.txt'), 'utf8')).toBe(`token 19 ${seed}\n`);
  expect(readFileSync(join(b, 'restored/model/empty')).length).toBe(0);
  expectOk(await runCliAsync(b, ['verify'], { timeoutMs: commandTimeoutMs }), 'verify');
  const show = await runCliAsync(b, ['show', 'net@staging', '--json']);
  expectOk(show, 'show');
  expect(JSON.parse(show.stdout).version).toMatchObject({ tags: ['candidate'], stages: ['production', 'staging'] });
  expectOk(await runCliAsync(b, ['history', '--verify']), 'history --verify');

  // And CI's way: no repository, the endpoint from the environment.
  const ci = tempDir();
  const ciPull = await runCliAsync(ci, ['pull', 'net@staging', '--remote', url, '--out', 'o'], {
    env: { ...env, AWS_ENDPOINT_URL_S3: proxy.endpoint },
    timeoutMs: commandTimeoutMs,
  });
  expectOk(ciPull, 'repository-less pull');
  expect(sha256File(join(ci, 'o/model/weights.bin'))).toBe(bigDigest);
  return `push ${formatTally(afterPush)}; overall ${formatTally(proxy.tally())}`;
}
