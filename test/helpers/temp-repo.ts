import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import { init } from '../../src/api/init.js';
import { cliEnv } from './cli-env.js';

export { cliEnv };

/** The built CLI launcher (tests run after `npm run build`, or vitest via `npm test`). */
export const BIN = fileURLToPath(new URL('../../bin/modelctl.js', import.meta.url));

const made: string[] = [];
// Removed asynchronously (libuv's pool), not with rmSync. A vitest worker must read each RPC
// reply within 60 s, and the tests here are mostly synchronous (spawnSync of the CLI): on a
// slow 2-core VM, runs whose tests all passed exited 1 with "Timeout calling onTaskUpdate".
// Synchronous removal of a test's trees (a global npm install, 10,000 files) added to that;
// awaiting real I/O here also gives the worker a turn of its event loop between every two tests.
// Tests of a describe.concurrent block share the list: the folders are removed when the last
// test running has finished, never under a test still using one.
let running = 0;
beforeEach(() => {
  running++;
});
afterEach(async () => {
  running--;
  if (running > 0) return;
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temp folder, removed after the test. */
export function tempDir(prefix = 'modelctl-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A fresh initialised repository in a temp folder. */
export function tempRepo(): string {
  const d = tempDir();
  init({ cwd: d });
  return d;
}

/** A fresh repository whose default remote `origin` is a new, empty folder remote (`registry`). */
export function tempRepoWithFolderRemote(): { repo: string; registry: string } {
  const repo = tempRepo();
  const registry = join(tempDir(), 'registry');
  const added = runCli(repo, ['remote', 'add', 'origin', registry, '--default']);
  if (added.code !== 0) throw new Error(`remote add failed: ${added.stderr}`);
  return { repo, registry };
}

/** Writes a file (creating folders) and returns its absolute path. */
export function writeFile(root: string, rel: string, content: string | Buffer): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

/** Deterministic pseudo-random bytes (xorshift32), so tests need no fixtures. */
export function pseudoRandomBytes(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** What a run printed, read as the CLI's --json output. */
interface JsonOutput {
  /** stdout parsed as JSON (for --json runs). */
  json<T = any>(): T;
  /** The {"error":…} document printed on stderr with --json. */
  error(): { code: string; message: string; hint: string | null; exitCode: number; data: any };
}

function jsonOutput(stdout: string, stderr: string): JsonOutput {
  return { json: () => JSON.parse(stdout), error: () => JSON.parse(stderr.trim().split('\n').pop() as string).error };
}

export interface CliRun extends JsonOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI synchronously in `cwd` with CI=1 (no prompts) and no colour. */
export function runCli(cwd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): CliRun {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: cliEnv({ CI: '1', NO_COLOR: '1', ...opts.env }),
    input: opts.input ?? '',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: r.status ?? 128,
    stdout: r.stdout,
    stderr: r.stderr,
    ...jsonOutput(r.stdout, r.stderr),
  };
}

export interface AsyncRun extends JsonOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs the built CLI without blocking the test's event loop (parallel processes, an
 * in-process HTTP server). `env` entries set to undefined are removed (e.g. CI). Killed
 * after `timeoutMs`, reported as `timedOut`.
 */
export function runCliAsync(
  cwd: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {},
): Promise<AsyncRun> {
  const env = cliEnv({ CI: '1', NO_COLOR: '1', ...opts.env });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ...jsonOutput(stdout, stderr) });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
