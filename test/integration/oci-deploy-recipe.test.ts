/**
 * The README's deploy recipe for OCI registries, run as written: the modelctl init
 * container's pull (no repository, by stage tag), and the storage-initializer script (curl,
 * jq, sha256sum; no modelctl) that reads what modelctl pushed by its stage tag, places every
 * file checked, and refuses a layer path that climbs out or a blob that does not hash to its
 * digest. Against Debian's docker-registry on 127.0.0.1, started here and stopped by its pid.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushHandArtifact, sha256 } from '../helpers/oci-artifacts.js';
import { registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

const README = join(import.meta.dirname, '..', '..', 'README.md');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tensors');
const tools = ['curl', 'jq', 'sha256sum'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

/** The ```sh block of the README that holds storage-initializer.sh. */
function recipeScript(): string {
  const text = readFileSync(README, 'utf8');
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const script = blocks.find((b) => b.includes('# storage-initializer.sh'));
  if (!script) throw new Error('README has no storage-initializer.sh block');
  return script;
}

describe.skipIf(!registryAvailable() || !tools)('README deploy recipe: a consumer reading the stage tag', () => {
  let reg: RegistryHandle;
  let script: string;
  beforeAll(async () => {
    reg = await startRegistry();
    script = join(tempDir(), 'storage-initializer.sh');
    writeFileSync(script, recipeScript(), { mode: 0o755 });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  const initialize = (repository: string, out: string, tag = 'production') =>
    spawnSync('sh', [script], { encoding: 'utf8', env: { ...process.env, REGISTRY: reg.host, REPOSITORY: repository, TAG: tag, OUT: out, SCHEME: 'http' }, timeout: 60_000 });

  it('places the files of the version the stage names, and follows a promotion', async () => {
    const a = tempRepo();
    cpSync(join(FIXTURES, 'face-api'), join(a, 'model'), { recursive: true });
    writeFile(a, 'model/README.md', '# face v1\n');
    const cli = (args: string[]) => runCliAsync(a, args, { timeoutMs: 120_000 });
    expect((await cli(['commit', 'face', 'model', '-m', 'v1'])).code).toBe(0);
    expect((await cli(['promote', 'face@v1', '--to', 'production', '--yes'])).code).toBe(0);
    const pushed = await cli(['push', '--remote', `${reg.url}/ml`]);
    expect(pushed.code, pushed.stderr).toBe(0);

    const out = join(tempDir(), 'models');
    const r = initialize('ml/face', out);
    expect(r.status, r.stderr).toBe(0);
    const placed = readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(out.length + 1)).sort();
    const committed = readdirSync(join(a, 'model'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join('model', join(d.parentPath, d.name).slice(join(a, 'model').length + 1))).sort();
    expect(placed).toEqual(committed);
    for (const f of placed) expect(readFileSync(join(out, f)).equals(readFileSync(join(a, f))), f).toBe(true);

    // The recipe's modelctl init container: no repository, the stage tag, --strip-components 1.
    const viaModelctl = tempDir();
    const pulled = await runCliAsync(viaModelctl, ['pull', 'face@production', '--remote', `${reg.url}/ml`, '--out', 'mnt/models', '--strip-components', '1'], { timeoutMs: 120_000 });
    expect(pulled.code, pulled.stderr).toBe(0);
    for (const f of placed) expect(readFileSync(join(viaModelctl, 'mnt/models', f.slice('model/'.length))).equals(readFileSync(join(a, f))), f).toBe(true);

    // A second version promoted with --push: the same script now places v2.
    writeFile(a, 'model/README.md', '# face v2\n');
    expect((await cli(['commit', 'face', 'model', '-m', 'v2'])).code).toBe(0);
    expect((await cli(['push', '--remote', `${reg.url}/ml`])).code).toBe(0);
    const promoted = await cli(['promote', 'face@v2', '--to', 'production', '--yes', '--push', '--remote', `${reg.url}/ml`]);
    expect(promoted.code, promoted.stderr).toBe(0);
    const out2 = join(tempDir(), 'models');
    expect(initialize('ml/face', out2).status).toBe(0);
    expect(readFileSync(join(out2, 'model/README.md'), 'utf8')).toBe('# face v2\n');
  });

  it('refuses a layer path that climbs out of the target, and a blob that does not hash to its digest', async () => {
    await pushHandArtifact(reg.host, 'evil/climb', ['production'], [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', bytes: Buffer.from('owned'), annotations: { 'org.cncf.model.filepath': '../escaped.txt' } }]);
    const root = tempDir();
    const r = initialize('evil/climb', join(root, 'models'));
    expect(r.status).not.toBe(0);
    expect(existsSync(join(root, 'escaped.txt'))).toBe(false);

    const bytes = Buffer.from('weights that will be flipped in storage');
    await pushHandArtifact(reg.host, 'evil/flip', ['production'], [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', bytes, annotations: { 'org.cncf.model.filepath': 'w.bin' } }]);
    const sha = sha256(bytes);
    const blob = join(reg.storage, 'docker/registry/v2/blobs/sha256', sha.slice(0, 2), sha, 'data');
    const stored = readFileSync(blob);
    stored[3] ^= 0x01;
    writeFileSync(blob, stored);
    const out = join(tempDir(), 'models');
    const bad = initialize('evil/flip', out);
    expect(bad.status).not.toBe(0);
    expect(existsSync(join(out, 'w.bin'))).toBe(false);
  });
});
