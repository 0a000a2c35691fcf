/** Helpers shared by test/integration/stat-cache.test.ts and its *.full.test.ts sibling. */

import { expect } from 'vitest';
import { commit } from '../../src/api/commit.js';
import { status } from '../../src/api/status.js';
import { pseudoRandomBytes, tempRepo, writeFile } from './temp-repo.js';

/** Files changed in the last 2 s are not cached ("racily clean"): wait that out. */
export const pastRacyWindow = () => new Promise((r) => setTimeout(r, 2100));

export async function repoWithFiles(names: string[]): Promise<string> {
  const root = tempRepo();
  names.forEach((n, i) => writeFile(root, `model/${n}`, pseudoRandomBytes(5000 + i * 100, i + 1)));
  await pastRacyWindow();
  const c = await commit({ cwd: root, model: 'm', paths: ['model'] });
  expect(c.hashedFiles).toBe(names.length);
  return root;
}

export function modelStatus(r: Awaited<ReturnType<typeof status>>) {
  expect(r.models).toHaveLength(1);
  return r.models[0];
}
