/**
 * A model name with a typo, read from a remote with no repository (a CI job, a deploy host):
 * the error names the remote's closest model (SPEC §2: an unknown reference lists the closest
 * candidates). Found by typing `fcae` for `face`: `pull fcae@v1 --remote <folder>` said
 * "did you mean 'face'?", but `log fcae --remote <folder>`, `show --remote`, and every
 * command against an oci:// registry said only "no model named 'fcae'".
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { commitIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

let reg: RegistryHandle | undefined;
let folder: string;
let team: string;

beforeAll(async () => {
  team = tempRepo();
  writeFile(team, 'model/w.bin', pseudoRandomBytes(100_000, 5));
  await commitIn(team, 'face', ['model/'], 'one');
  folder = join(tempDir(), 'registry');
  await remoteAddIn(team, 'origin', folder, { default: true });
  await pushIn(team);
  if (registryAvailable()) {
    reg = await startRegistry();
    const pushed = await runCliAsync(team, ['push', '--remote', `${reg.url}/ml`], { timeoutMs: 120_000 });
    expect(pushed.code, pushed.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

async function expectSuggestion(args: string[]): Promise<void> {
  const r = await runCliAsync(tempDir(), [...args, '--json'], { timeoutMs: 120_000 });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
  const err = r.error();
  expect(err.code).toBe('UNKNOWN_MODEL');
  expect(err.data.candidates, args.join(' ')).toEqual(['face']);
  expect(err.message).toContain("'face'");
}

describe('a typo in a model name read from a remote', () => {
  it('a folder remote: log and show --remote name the closest model, as pull does', async () => {
    await expectSuggestion(['pull', 'fcae@v1', '--remote', folder, '--out', join(tempDir(), 'out')]);
    await expectSuggestion(['log', 'fcae', '--remote', folder]);
    await expectSuggestion(['show', 'fcae@v1', '--remote', folder]);
  }, 120_000);

  it.skipIf(!registryAvailable())('an oci:// registry: pull, log and show --remote name the closest model', async () => {
    const url = `${reg!.url}/ml`;
    await expectSuggestion(['pull', 'fcae@v1', '--remote', url, '--out', join(tempDir(), 'out')]);
    await expectSuggestion(['log', 'fcae', '--remote', url]);
    await expectSuggestion(['show', 'fcae@v1', '--remote', url]);
  }, 120_000);
});
