/** Helpers shared by test/integration/signing.test.ts and its *.full.test.ts sibling. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeKeyPair } from './oms-fixtures.js';
import { tempRepo, writeFile } from './temp-repo.js';
import { attest } from '../../src/api/attest.js';
import { configSet } from '../../src/api/config.js';
import { sign } from '../../src/api/sign.js';
import { apiEnv, commitIn } from './setup-api.js';

/** `modelctl sign|attest <ref> --key <key>` through the Node API (set-up only). */
export async function signIn(repo: string, verb: 'sign' | 'attest', ref: string, key: string): Promise<void> {
  await (verb === 'sign' ? sign : attest)({ cwd: repo, env: apiEnv(), ref, key, argv: [verb, ref, '--key', key] });
}

/** A repository with fraud@v1 (two files under model/), a key pair and trust.keys.release. */
export async function signedRepoSetup(curve = 'prime256v1') {
  const repo = tempRepo();
  writeFile(repo, 'model/w.bin', Buffer.alloc(300_000, 7));
  writeFile(repo, 'model/config.json', '{"layers":2}');
  // Arranged through the Node API (setup-api.ts); what each test checks runs through the CLI.
  const versionId = await commitIn(repo, 'fraud', ['model/'], 'first', {
    params: ['lr=0.01'],
    metrics: ['accuracy=0.93'],
    argv: ['commit', 'fraud', 'model/', '-m', 'first', '--param', 'lr=0.01', '--metric', 'accuracy=0.93', '--json'],
  });
  const keys = writeKeyPair(repo, 'release', { type: 'ec', curve });
  await configSet({ cwd: repo, env: apiEnv(), key: 'trust.keys.release', value: 'release.pub', shared: true });
  return { repo, keys, versionId };
}

export function settings(repo: string, patch: Record<string, unknown>): void {
  const path = join(repo, 'modelctl.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...patch }, null, 2));
}
