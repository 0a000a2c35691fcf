/** Helpers shared by test/integration/remote-gc.test.ts and its *.full.test.ts sibling. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { commitIn, remoteAddIn } from './setup-api.js';
import { tempDir, writeFile } from './temp-repo.js';
import { type RemoteTarget } from '../integration/remote-gc-helpers.js';

export function directoryTarget(): RemoteTarget {
  return { url: join(tempDir('modelctl-remote-'), 'r'), env: { MODELCTL_REMOTE_GC_LEASE_MS: '1500' }, addArgs: [] };
}

/*
 * Set-up steps arranged through the Node API (setup-api.ts), in this process; what each test
 * checks still runs through the CLI. rm and gc --remote are not in src/index.ts: their api
 * modules are imported directly.
 */

/** `remote add origin <t.url> --default` (a folder remote: no extra flags, no credentials). */
export async function addOriginIn(repo: string, t: RemoteTarget): Promise<void> {
  await remoteAddIn(repo, 'origin', t.url, { default: true });
}

/** Writes `files` and commits them as a new version of `model` (remote-gc-helpers.ts commitFiles, in process). */
export async function commitFilesIn(repo: string, model: string, files: Record<string, Buffer>): Promise<Record<string, Buffer>> {
  for (const [p, b] of Object.entries(files)) writeFile(repo, p, b);
  await commitIn(repo, model, Object.keys(files), 'x');
  return files;
}

export function chunkCount(t: RemoteTarget): number {
  const dir = join(t.url, 'chunks');
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.~')).length : 0;
}
