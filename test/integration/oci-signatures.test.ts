/**
 * Signatures and an oci:// remote. A registry carries no modelctl signatures or attestations
 * (docs/design.md §13 maps versions, tags, stages and events only), so a push of a signed
 * version says its signatures stayed behind, and a pull that requires a signature from the
 * registry says why none is there — instead of telling the user to `sign … && push`, which
 * they did. Found by signing face@v1 with a release key, pushing it to docker-registry and
 * running `pull face@v1 --remote oci://… --out … --signed-by release.pub`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/api/sign.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { apiEnv, commitIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

let reg: RegistryHandle;

beforeAll(async () => {
  if (registryAvailable()) reg = await startRegistry();
}, 60_000);

afterAll(async () => {
  await reg?.stop();
});

describe.skipIf(!registryAvailable())('oci:// remotes and signatures', () => {
  it('push says the signatures stay behind, and a pull requiring one says the registry carries none', async () => {
    const a = tempRepo();
    writeFile(a, 'model/w.bin', pseudoRandomBytes(300_000, 3));
    writeFile(a, 'model/config.json', '{"n":1}');
    await commitIn(a, 'face', ['model/'], 'one');
    const keys = writeKeyPair(tempDir(), 'release', { type: 'ec', curve: 'prime256v1' });
    await sign({ cwd: a, env: apiEnv(), ref: 'face@v1', key: keys.priv, argv: ['sign', 'face@v1', '--key', keys.priv] });

    const url = `${reg.url}/ml`;
    const pushed = await runCliAsync(a, ['push', '--remote', url, '--json'], { timeoutMs: 120_000 });
    expect(pushed.code, pushed.stderr).toBe(0);
    const warnings: string[] = pushed.json().warnings;
    expect(warnings.some((w) => /signature/i.test(w) && w.includes('face@v1')), warnings.join('\n')).toBe(true);

    const out = join(tempDir(), 'out');
    const pulled = await runCliAsync(tempDir(), ['pull', 'face@v1', '--remote', url, '--out', out, '--signed-by', keys.pub, '--json'], { timeoutMs: 120_000 });
    expect(pulled.code).toBe(6);
    const err = pulled.error();
    expect(err.code).toBe('SIGNATURE_MISSING');
    // Not "sign it and push it": that was done, and cannot help on a registry.
    expect(err.hint).not.toMatch(/modelctl push/);
    expect(err.hint).toMatch(/OCI|registr/i);
    expect(() => readFileSync(join(out, 'model/config.json'))).toThrow();
  }, 120_000);
});
