/** Helpers shared by test/integration/checkout-exact.test.ts and its *.full.test.ts sibling. */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { commitIn, pushIn, remoteAddIn } from './setup-api.js';
import { tempDir, tempRepo, writeFile } from './temp-repo.js';

/** Every file and link under `dir` (relative, sorted), modelctl's own folders left out. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.modelctl' || e.name === '.modelctl-placed' || e.name === '.git') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** The files under the work tree's model/ folder, as repository paths. */
export function modelFiles(repo: string): string[] {
  return existsSync(join(repo, 'model')) ? listFiles(join(repo, 'model')).map((p) => `model/${p}`) : [];
}

/** v1 = {model/a.bin}; v2 = v1 + model/emotion.bin + model/sub/s.bin (a.bin changed). Arranged through the Node API (setup-api.ts). */
export async function twoVersions(repo: string): Promise<void> {
  writeFile(repo, 'model/a.bin', 'a1');
  await commitIn(repo, 'm', ['model'], 'v1');
  writeFile(repo, 'model/a.bin', 'a2');
  writeFile(repo, 'model/emotion.bin', 'emotion');
  writeFile(repo, 'model/sub/s.bin', 'sub');
  await commitIn(repo, 'm', ['model'], 'v2');
}

/** twoVersions pushed to a fresh folder remote (the repository's default), for pulls with no repository. Arranged through the Node API (setup-api.ts). */
export async function pushed(): Promise<{ registry: string }> {
  const repo = tempRepo();
  await twoVersions(repo);
  const registry = join(tempDir(), 'registry');
  mkdirSync(registry);
  await remoteAddIn(repo, 'origin', registry, { default: true });
  await pushIn(repo);
  return { registry };
}
