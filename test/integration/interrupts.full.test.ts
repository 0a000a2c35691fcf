import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempDir, tempRepo } from '../helpers/temp-repo.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM while commit, push and pull are at work: the command exits
 * 130 with an INTERRUPTED error, removes its temp files — in the store's tmp/ and, for
 * push, on the directory remote — and leaves nothing half-written: verify is clean and the
 * same command run again completes. The one deliberate exception: pull keeps its
 * `partial-<digest>` files in .modelctl/tmp/ so the next pull resumes instead of starting over.
 */
const FILES = 4;
const MIB = 6;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

function writeModel(repo: string): void {
  mkdirSync(join(repo, 'model'), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(repo, 'model', `w${i}.bin`), randomBytes(MIB * 1024 * 1024 + i));
}

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The signal was sent while the command was visibly at work (not before, not after). */
  midWork: boolean;
}

/** Starts the command, waits until `working()` says its work shows on disk, then sends `signal`. */
function interruptWhenWorking(cwd: string, args: string[], signal: NodeJS.Signals, working: () => boolean): Promise<Interrupted> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json'], { cwd, env: cliEnv({ CI: '1', NO_COLOR: '1' }), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    let exited = false;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const poll = setInterval(() => {
      if (exited || sent) return;
      if (working()) {
        sent = true;
        child.kill(signal);
      }
    }, 2);
    child.on('exit', (code, sig) => {
      exited = true;
      clearInterval(poll);
      resolve({ code, signal: sig, stderr, midWork: sent });
    });
  });
}

function expectInterrupted(r: Interrupted): void {
  expect(r.midWork, 'the signal should land while the command works').toBe(true);
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(130);
  const err = JSON.parse(r.stderr.trim().split('\n').pop() as string).error;
  expect(err.code).toBe('INTERRUPTED');
  expect(err.exitCode).toBe(130);
}

function expectVerified(repo: string): void {
  const v = runCli(repo, ['verify', '--json']);
  expect(v.code, v.stderr).toBe(0);
  expect(v.json().problems.filter((p: { kind: string }) => p.kind !== 'unindexed-object')).toEqual([]);
  expect(runCli(repo, ['history', '--verify']).code).toBe(0);
}

const tmpOf = (repo: string) => readdirSync(join(repo, '.modelctl', 'tmp'));
/** Remote files that are not part of the layout: temp and lock files of a writer. */
const remoteLeftovers = (remote: string) => filesUnder(remote).filter((p) => p.split('/').some((s) => s.startsWith('.~modelctl-')));

describe.each(['SIGINT', 'SIGTERM'] as const)('%s while a command works', (signal) => {
  it('commit: exit 130, no temp file in the store, no version, verify clean, rerun completes', async () => {
    const repo = tempRepo();
    writeModel(repo);
    const r = await interruptWhenWorking(repo, ['commit', 'm', 'model'], signal, () => tmpOf(repo).length > 0);
    expectInterrupted(r);
    expect(tmpOf(repo)).toEqual([]);
    expectVerified(repo);
    expect(runCli(repo, ['log', 'm', '--json']).code).toBe(3); // no version half-made
    expect(runCli(repo, ['commit', 'm', 'model']).code).toBe(0);
    expectVerified(repo);
  });

  it('push: exit 130, no temp file in the store or on the remote, what landed is consistent, rerun completes', async () => {
    const repo = tempRepo();
    writeModel(repo);
    expect(runCli(repo, ['commit', 'm', 'model', '--tag', 't1']).code).toBe(0);
    const remote = join(tempDir(), 'remote');
    expect(runCli(repo, ['remote', 'add', 'origin', remote, '--default']).code).toBe(0);
    const r = await interruptWhenWorking(repo, ['push'], signal, () => filesUnder(join(remote, 'chunks')).length >= 3);
    expectInterrupted(r);
    expect(tmpOf(repo)).toEqual([]);
    expect(remoteLeftovers(remote)).toEqual([]);
    // Nothing names what is absent: no number was published before its chunks.
    expect(existsSync(join(remote, 'models', 'm', 'numbers', '1.json'))).toBe(false);
    expectVerified(repo);
    expect(runCli(repo, ['push']).code).toBe(0);
    expect(remoteLeftovers(remote)).toEqual([]);
    const reader = tempDir();
    const pulled = runCli(reader, ['pull', 'm@t1', '--remote', `file://${remote}`, '--out', 'out']);
    expect(pulled.code, pulled.stderr).toBe(0);
  });

  it('pull: exit 130, only resumable partial-* files stay in tmp/, nothing checked out half-way, verify clean, rerun completes', async () => {
    const src = tempRepo();
    writeModel(src);
    expect(runCli(src, ['commit', 'm', 'model']).code).toBe(0);
    const remote = join(tempDir(), 'remote');
    expect(runCli(src, ['remote', 'add', 'origin', remote, '--default']).code).toBe(0);
    expect(runCli(src, ['push']).code).toBe(0);
    const repo = tempRepo();
    expect(runCli(repo, ['remote', 'add', 'origin', remote, '--default']).code).toBe(0);
    const partialBytes = () => tmpOf(repo).reduce((s, n) => s + statSync(join(repo, '.modelctl', 'tmp', n)).size, 0);
    const r = await interruptWhenWorking(repo, ['pull', 'm@v1'], signal, () => partialBytes() > 2 * 1024 * 1024);
    expectInterrupted(r);
    // The documented exception: partial-<digest> files, kept to resume; nothing else.
    expect(tmpOf(repo).filter((n) => !/^partial-[0-9a-f]{64}$/.test(n))).toEqual([]);
    // No temp file of a checkout next to the files, and no file written half-way.
    expect(filesUnder(repo).filter((p) => !p.startsWith('.modelctl/') && p.includes('modelctl-tmp'))).toEqual([]);
    expectVerified(repo);
    const again = runCli(repo, ['pull', 'm@v1', '--json']);
    expect(again.code, again.stderr).toBe(0);
    // It resumed: whatever the interrupt left (partial files, finished objects) is not
    // downloaded again. (Reused chunks alone would miss the case where every file was
    // already stored and only the checkout was cut short.)
    const totalChunks = filesUnder(join(remote, 'chunks')).length;
    expect(again.json().download.chunksDownloaded).toBeLessThan(totalChunks);
    expect(tmpOf(repo)).toEqual([]);
    for (let i = 0; i < FILES; i++) expect(statSync(join(repo, 'model', `w${i}.bin`)).size).toBe(MIB * 1024 * 1024 + i);
    expectVerified(repo);
  });
});
