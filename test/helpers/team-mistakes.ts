/** Helpers shared by test/integration/team-mistakes.test.ts and its *.full.test.ts sibling. */

import { join } from 'node:path';
import { commitIn, pushIn, remoteAddIn } from './setup-api.js';
import { pseudoRandomBytes, runCliAsync, tempDir, tempRepo, writeFile } from './temp-repo.js';

export function runCli(cwd: string, args: string[]) {
  return runCliAsync(cwd, args, { timeoutMs: 120_000 });
}

/** Clone a pushed face@v1 and face@v2 to a folder remote; clone b has the remote and nothing else. */
export async function team() {
  const remote = join(tempDir(), 'registry');
  const a = tempRepo();
  for (const i of [1, 2]) {
    writeFile(a, 'face/w.bin', pseudoRandomBytes(40_000, i));
    await commitIn(a, 'face', ['face'], `v${i}`);
  }
  await remoteAddIn(a, 'origin', remote, { default: true });
  await pushIn(a);
  const b = tempRepo();
  await remoteAddIn(b, 'origin', remote, { default: true });
  return { remote, a, b };
}
