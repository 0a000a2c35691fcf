/** Helpers shared by test/integration/reproduce.test.ts and its *.full.test.ts sibling. */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect } from 'vitest';
import { git, mc } from '../integration/repro-helpers.js';

export const worktrees = (root: string) => git(root, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '));

export const reproduceTemps = () => readdirSync(tmpdir()).filter((n) => n.startsWith('modelctl-reproduce-'));

export function run(root: string, ...args: string[]) {
  const r = mc(root, 'run', ...args);
  expect(r.code, r.stderr).toBe(0);
  return r.json();
}
