/** Helpers shared by test/integration/store-repair.test.ts and its *.full.test.ts sibling. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './temp-repo.js';

/** Flips a byte of the object `digest` in the store; returns its path. */
export function corrupt(repo: string, digest: string): string {
  const file = join(repo, '.modelctl/objects', digest.slice(0, 2), digest.slice(2));
  chmodSync(file, 0o644);
  const bytes = readFileSync(file);
  bytes[7] ^= 0xff;
  writeFileSync(file, bytes);
  return file;
}

export function digestOf(repo: string, ref: string, path: string): string {
  const show = runCli(repo, ['show', ref, '--json']);
  expect(show.code, show.stderr).toBe(0);
  return (show.json().files as { path: string; digest: string }[]).find((f) => f.path === path)!.digest.replace(/^.*:/, '');
}
