/** Helpers shared by test/integration/remote-sync.test.ts and its *.full.test.ts sibling. */

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { manifestId } from '../../src/core/manifest.js';
import { commitIn, pushIn } from './setup-api.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from './temp-repo.js';

/** `modelctl commit <model> <paths…>` with no -m (an empty message, no reason), arranged through the Node API. */
export const commitNoMessage = (cwd: string, model: string, paths: string[]) => commitIn(cwd, model, paths, '', { message: undefined, argv: ['commit', model, ...paths] });

/** `modelctl push --remote <url>`, arranged through the Node API. */
export const pushTo = (cwd: string, remote: string) => pushIn(cwd, [], { remote, argv: ['push', '--remote', remote] });

/**
 * fraud@v1 (a 6 MiB multi-chunk file and a small one) pushed to a fresh folder remote, for the
 * hostile-content tests to tamper with: the pushing repository, the remote, and v1's id and manifest.
 */
export async function pushedForTampering() {
  const a = tempRepo();
  const remote = join(tempDir(), 'registry');
  writeFile(a, 'm/w.bin', pseudoRandomBytes(6 * 1024 * 1024, 21));
  writeFile(a, 'm/s.txt', 'small');
  // Arranged through the Node API (setup-api.ts); the pulls and fetches under test run through the CLI.
  await commitNoMessage(a, 'fraud', ['m']);
  await pushTo(a, remote);
  const versionFile = readdirSync(join(remote, 'versions'))[0];
  return { a, remote, id: versionFile.replace(/\.json$/, ''), manifest: JSON.parse(readFileSync(join(remote, 'versions', versionFile), 'utf8')) };
}
/** Publishes a crafted manifest under its true id as fraud@v2, as an attacker with write access could. */
export function publish(remote: string, manifest: unknown): string {
  const bytes = Buffer.from(canonicalJson(manifest));
  const id = manifestId(bytes);
  writeFileSync(join(remote, 'versions', `${id}.json`), bytes);
  writeFileSync(join(remote, 'models/fraud/numbers/2.json'), canonicalJson({ version: id }));
  return id;
}
