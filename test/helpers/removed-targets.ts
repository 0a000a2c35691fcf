/** Helpers shared by test/integration/removed-targets.test.ts and its *.full.test.ts sibling. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitIn, fetchIn, promoteIn, pushIn, remoteAddIn } from './setup-api.js';
import { runCliAsync, tempDir, tempRepo, writeFile } from './temp-repo.js';
import { bytes, type RemoteTarget } from '../integration/remote-gc-helpers.js';

export function directoryTarget(): RemoteTarget {
  return { url: join(tempDir('modelctl-remote-'), 'r'), env: {}, addArgs: [] };
}

export function runCli(cwd: string, args: string[], env: Record<string, string> = {}) {
  return runCliAsync(cwd, args, { env, timeoutMs: 120_000 });
}

export const refDoc = (remote: string, kind: 'stages' | 'tags', name: string) => {
  const p = join(remote, 'models/m', kind, `${name}.json`);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string }) : null;
};

export const tombstone = (remote: string, n: number) => JSON.parse(readFileSync(join(remote, 'models/m/removed', `${n}.json`), 'utf8')) as { actor: string; reason: string };

/** Clone a: m@v1..v3 pushed, staging on v1. Clone b fetched, then moved staging to v3 with --push. Returns the ids (v1..v3). */
export async function team() {
  const t = directoryTarget();
  const a = tempRepo();
  // Arranged through the Node API (setup-api.ts); what each test checks runs through the CLI.
  await remoteAddIn(a, 'origin', t.url, { default: true });
  const ids: string[] = [];
  for (const i of [1, 2, 3]) {
    writeFile(a, 'w.bin', bytes(50_000, 70 + i));
    ids.push(await commitIn(a, 'm', ['w.bin'], 'x'));
  }
  await promoteIn(a, 'm@v1', 'staging');
  await pushIn(a);
  const b = tempRepo();
  await remoteAddIn(b, 'origin', t.url, { default: true });
  await fetchIn(b);
  await promoteIn(b, 'm@v3', 'staging', { push: true });
  return { t, a, b, ids };
}
