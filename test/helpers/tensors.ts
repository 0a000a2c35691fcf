/** Helpers shared by test/integration/tensors.test.ts and its *.full.test.ts sibling. */

import { commit } from '../../src/api/commit.js';
import { apiEnv } from './setup-api.js';
import { pseudoRandomBytes } from './temp-repo.js';
import { type SafetensorsTensor } from './tensor-files.js';

export const MiB = 1024 * 1024;

/**
 * `modelctl commit <model> <paths…>` without -m, arranged through the Node API (setup-api.ts
 * does the same with a message). The summaries these tests check are recorded by the same code.
 */
export async function commitNoMessage(cwd: string, model: string, paths: string[]): Promise<void> {
  await commit({ cwd, env: apiEnv(), model, paths, argv: ['commit', model, ...paths] });
}

/** Eight 1 MiB f32 tensors of pseudo-random bytes (several chunks), as a safetensors file. */
export function bigTensors(): SafetensorsTensor[] {
  const data = pseudoRandomBytes(8 * MiB, 7);
  return Array.from({ length: 8 }, (_, i) => ({ name: `layers.${i}.weight`, dtype: 'F32', shape: [512, 512], data: data.subarray(i * MiB, (i + 1) * MiB) }));
}
