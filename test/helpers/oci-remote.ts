/** Helpers shared by test/integration/oci-remote.test.ts and its *.full.test.ts sibling. */

import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { commitIn, promoteIn } from './setup-api.js';
import { runCliAsync, tempRepo, writeFile, type AsyncRun } from './temp-repo.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tensors');

export const skopeo = existsSync('/usr/bin/skopeo');

/**
 * A training repository with a real model: a TF.js model, two ONNX files, a README and the
 * training script. Arranged through the Node API (setup-api.ts): local steps only; whatever
 * talks to the registry runs through the CLI.
 */
export async function modelRepo(): Promise<string> {
  const a = tempRepo();
  cpSync(join(FIXTURES, 'face-api'), join(a, 'model/face'), { recursive: true });
  cpSync(join(FIXTURES, 'openwakeword'), join(a, 'model/wake'), { recursive: true });
  writeFile(a, 'model/README.md', '# detector\n');
  writeFile(a, 'train.py', 'print("train")\n');
  writeFile(a, 'data/train.csv', 'x,y\n1,2\n');
  await commitIn(a, 'detector', ['model', 'train.py'], 'first detector', {
    params: ['lr=0.01'],
    metrics: ['auc=0.91'],
    data: ['data/train.csv'],
    tag: '1.0.0+cpu',
  });
  await promoteIn(a, 'detector@v1', 'staging');
  return a;
}

/**
 * The CLI as the oci-remote suites run it: with the registry's credentials (`env()`, read at
 * each call, so a beforeAll may set it) and a long timeout; and the model's audit events.
 */
export function registryCli(env: () => Record<string, string>) {
  const cli = (cwd: string, args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<AsyncRun> =>
    runCliAsync(cwd, args, { env: { ...env(), ...extraEnv }, timeoutMs: 120_000 });
  /** The model's audit events, oldest first. */
  const historyOf = async (repoDir: string): Promise<{ id: string; action: string; data: { stage?: string } }[]> => {
    const h = (await cli(repoDir, ['history', 'detector', '--json'])).json();
    return Array.isArray(h) ? h : h.events;
  };
  return { cli, historyOf };
}
