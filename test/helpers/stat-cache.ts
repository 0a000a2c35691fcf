/** Helpers shared by test/integration/stat-cache.test.ts and its *.full.test.ts sibling. */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { commit } from '../../src/api/commit.js';
import { openRepository } from '../../src/api/repository.js';
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

/** A repository whose model m is the folder model/ (three files, two levels deep), committed, whose first status cached the listing. */
export async function folderRepo(): Promise<string> {
  const root = tempRepo();
  const cfgPath = join(root, 'modelctl.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { models?: Record<string, unknown> };
  cfg.models = { m: { paths: ['model'] } };
  writeFileSync(cfgPath, JSON.stringify(cfg));
  writeFile(root, 'model/a.bin', pseudoRandomBytes(3000, 1));
  writeFile(root, 'model/sub/b.bin', pseudoRandomBytes(3000, 2));
  writeFile(root, 'model/sub/deeper/c.bin', pseudoRandomBytes(3000, 3));
  await pastRacyWindow();
  await commit({ cwd: root, model: 'm' });
  // First status walks and caches the listing; the second is served from it.
  expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ clean: true, unchanged: 3 });
  expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ clean: true, unchanged: 3, rehashed: 0 });
  const repo = await openRepository({ cwd: root });
  try {
    const rows = repo.db.prepare('SELECT folder, listing FROM folder_listings').all() as { folder: string; listing: string }[];
    expect(rows.map((r) => r.folder)).toEqual([join(root, 'model')]);
    expect((JSON.parse(rows[0].listing) as { files: string[] }).files).toEqual(['model/a.bin', 'model/sub/b.bin', 'model/sub/deeper/c.bin']);
  } finally {
    repo.close();
  }
  return root;
}
