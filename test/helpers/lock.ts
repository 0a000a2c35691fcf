/** Helpers shared by test/integration/lock.test.ts and its *.full.test.ts sibling. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { run } from '../../src/api/run.js';
import { apiEnv } from './setup-api.js';
import { mc } from '../integration/repro-helpers.js';

export const lockOf = (root: string) => JSON.parse(readFileSync(join(root, 'modelctl.lock'), 'utf8'));

export const workspaceBytes = (root: string) => readFileSync(join(root, 'model/weights.bin')).toString('hex');

export function train(root: string, seed: string): void {
  const r = mc(root, 'run', '--', 'node', 'train.js', '--seed', seed);
  expect(r.code, r.stderr).toBe(0);
}

/**
 * `modelctl run --json -- node train.js --seed <seed>` as a set-up step, through the Node API
 * (setup-api.ts style; it throws when the run fails). For tests that arrange versions, not
 * for those that check what run does to the lock.
 */
export async function trainIn(root: string, seed: string): Promise<void> {
  const command = ['node', 'train.js', '--seed', seed];
  await run({ cwd: root, env: apiEnv(), command, argv: ['run', '--json', '--', ...command], stdout: 'ignore' });
}
