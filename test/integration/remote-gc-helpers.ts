/**
 * Shared set-up of the remote gc tests (docs/design.md §16): a pusher repository, a gc
 * operator repository whose modelctl.json holds the retention policy, and the checks every
 * run ends with (verify --remote clean, every acknowledged version pulls byte-identical).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** How the tests reach a remote: its URL and the environment (S3 credentials) every command needs. */
export interface RemoteTarget {
  url: string;
  env: NodeJS.ProcessEnv;
  /** Extra `remote add` flags (--endpoint). */
  addArgs: string[];
}

/** Adds `origin` to a repository. */
export function addOrigin(repo: string, t: RemoteTarget): void {
  const r = runCli(repo, ['remote', 'add', 'origin', t.url, '--default', ...t.addArgs], { env: t.env });
  expect(r.code, r.stderr).toBe(0);
}

/** Sets models.<model>.retention in a repository's modelctl.json. */
export function setRetention(repo: string, model: string, retention: Record<string, unknown>): void {
  const path = join(repo, 'modelctl.json');
  const j = JSON.parse(readFileSync(path, 'utf8')) as { models?: Record<string, Record<string, unknown>> };
  j.models ??= {};
  j.models[model] = { ...(j.models[model] ?? {}), retention };
  writeFileSync(path, JSON.stringify(j, null, 2));
}

/** A version a test made: its file's bytes, to compare a pull with. */
export interface Made {
  ref: string;
  files: Record<string, Buffer>;
}

/** Commits `files` as a new version of `model`; returns them. */
export function commitFiles(repo: string, model: string, files: Record<string, Buffer>, env: NodeJS.ProcessEnv = {}): Record<string, Buffer> {
  for (const [p, b] of Object.entries(files)) writeFile(repo, p, b);
  const r = runCli(repo, ['commit', model, ...Object.keys(files), '-m', 'x'], { env });
  expect(r.code, r.stderr).toBe(0);
  return files;
}

/** Bytes of a file of about `n` bytes, several chunks when large (seeded). */
export function bytes(n: number, seed: number): Buffer {
  return pseudoRandomBytes(n, seed);
}

/** A gc operator repository: origin added, retention set. */
export function gcOperator(t: RemoteTarget, model: string, retention: Record<string, unknown>): string {
  const g = tempRepo();
  addOrigin(g, t);
  setRetention(g, model, retention);
  return g;
}

/**
 * The end of every run: `verify --remote` is clean, and every version in `acknowledged`
 * (pushed with exit 0, and not removed by a gc) pulls into a fresh clone byte for byte.
 */
export function assertRemoteIntact(t: RemoteTarget, model: string, acknowledged: readonly Made[]): void {
  const clone = tempRepo();
  addOrigin(clone, t);
  const v = runCli(clone, ['verify', '--remote', 'origin', '--json'], { env: t.env });
  expect(v.code, v.stdout + v.stderr).toBe(0);
  for (const m of acknowledged) {
    const out = tempDir();
    const p = runCli(clone, ['pull', m.ref, '--out', out], { env: t.env });
    expect(p.code, `${m.ref}: ${p.stderr}`).toBe(0);
    for (const [path, b] of Object.entries(m.files)) expect(readFileSync(join(out, path)).equals(b), `${m.ref} ${path}`).toBe(true);
  }
  expect(model).toBeTruthy();
}

/** Version numbers the remote has tombstones for. */
export function removedNumbers(clone: string, t: RemoteTarget, model: string): number[] {
  expect(runCli(clone, ['fetch'], { env: t.env }).code).toBe(0);
  const h = runCli(clone, ['history', model, '--json'], { env: t.env });
  expect(h.code, h.stderr).toBe(0);
  const events = h.json<{ action: string; data: { number?: number } }[]>();
  return events.filter((e) => e.action === 'remove').map((e) => Number(e.data.number));
}
