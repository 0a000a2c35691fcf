/**
 * oci:// remotes end to end, through the built CLI, against Debian's docker-registry
 * (distribution 2.8) with htpasswd auth: a real model (TF.js and ONNX files from npm
 * packages, test/fixtures/tensors/) pushed as a CNCF ModelPack artifact, checked against
 * the ModelPack schema and read by skopeo; fetched and pulled (with and without a
 * repository) to the same version id, lineage, tags, stages and events; stages moved with
 * --push and a stale move refused; the registry's listings; hand-made artifacts (the spec's
 * example layout: tar layers, no modelctl metadata; raw layers with file paths) pulled by
 * tag; and the hostile cases: a blob that does not hash to its digest, `../` paths in a
 * layer annotation and in a tar, a link in a tar, an artifact altered after the push.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/remote/oci/registry-client.js';
import { RegistryRepository } from '../../src/remote/oci/registry-repository.js';
import { pushHandArtifact, tarOf } from '../helpers/oci-artifacts.js';
import { dockerConfigDir, registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { commitIn, remoteAddIn } from '../helpers/setup-api.js';
import { tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { modelRepo, registryCli } from '../helpers/oci-remote.js';

let reg: RegistryHandle;
let dockerConfig: string;
let env: Record<string, string>;
const creds = () => ({ kind: 'basic' as const, username: reg.username, password: reg.password, source: 'test' });

const { cli, historyOf } = registryCli(() => env);

describe.skipIf(!registryAvailable())('oci:// remotes', () => {
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
    dockerConfig = dockerConfigDir(reg.host, reg.username, reg.password);
    env = { DOCKER_CONFIG: dockerConfig };
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('moves stages with --push (the audit event appended to the registry log), refuses a stale move, and a second version takes v2', async () => {
    const a = await modelRepo();
    const url = `${reg.url}/stages`;
    await remoteAddIn(a, 'origin', url, { default: true });
    expect((await cli(a, ['push'])).code).toBe(0);
    const b = tempRepo();
    await remoteAddIn(b, 'origin', url, { default: true });
    expect((await cli(b, ['fetch'])).code).toBe(0);

    const moved = await cli(b, ['promote', 'detector@v1', '--to', 'production', '--yes', '--push', '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.json().warnings.length).toBeGreaterThan(0);
    // a is stale now: its --push of the same stage is refused, nothing changed anywhere.
    writeFile(a, 'model/README.md', '# detector v2\n');
    await commitIn(a, 'detector', ['model', 'train.py'], 'second');
    const stale = await cli(a, ['promote', 'detector@v2', '--to', 'production', '--yes', '--push', '--json']);
    expect(stale.code).toBe(4);
    expect(stale.error().code).toBe('STAGE_MOVED');
    // Who moved it and when, from the registry's event log (as a stage document says on S3).
    const bMove = (await historyOf(b)).filter((e: { action: string; data: { stage?: string } }) => e.action === 'promote' && e.data.stage === 'production').at(-1);
    expect(stale.error().data).toMatchObject({ movedBy: bMove.actor, movedAt: bMove.at });
    expect(stale.error().message).toContain(`${bMove.actor} moved it to`);
    expect((await cli(a, ['show', 'detector@v2', '--json'])).json().version.stages).toEqual([]);
    // After a fetch it goes through; b sees it, with the event.
    expect((await cli(a, ['fetch'])).code).toBe(0);
    const fresh = await cli(a, ['promote', 'detector@v2', '--to', 'production', '--yes', '--push', '--json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await cli(b, ['fetch'])).code).toBe(0);
    const prod = (await cli(b, ['show', 'detector@production', '--json'])).json();
    expect(prod.version.number).toBe(2);
    const events = await historyOf(b);
    expect(events.filter((e: { action: string }) => e.action === 'promote').map((e: { data: { stage: string } }) => e.data.stage)).toEqual(['staging', 'production', 'production']);
    // Rolled back from the other clone: the OCI tag goes back to v1's artifact.
    expect((await cli(b, ['rollback', 'detector', '--stage', 'production', '--yes', '--push'])).code).toBe(0);
    const client = new RegistryClient({ registry: reg.host, plainHttp: true, credentials: creds() });
    const r = new RegistryRepository(client, 'stages/detector');
    expect(await r.headManifest('production')).toBe(await r.headManifest('v1'));
    client.close();
  });

  it('a repository emptied on the registry: push uploads again what the index remembered as there', async () => {
    const a = await modelRepo();
    const url = `${reg.url}/emptied`;
    await remoteAddIn(a, 'origin', url, { default: true });
    expect((await cli(a, ['push'])).code).toBe(0);
    expect((await cli(a, ['promote', 'detector@v1', '--to', 'staging', '--yes', '--push'])).code).toBe(0);
    // Its repository removed from the registry's storage (tags, links, uploads): as if made anew.
    rmSync(join(reg.storage, 'docker', 'registry', 'v2', 'repositories', 'emptied'), { recursive: true, force: true });
    const again = await cli(a, ['push', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().versions.map((v: { status: string }) => v.status)).toEqual(['uploaded']);
    const b = tempRepo();
    const pulled = await cli(b, ['pull', 'detector@staging', '--remote', url, '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
  });

  it('pulls an artifact made by hand as in the spec example: the repository names the model, the OCI tag the version', async () => {
    const weights = Buffer.from('pretend safetensors weights '.repeat(1000));
    const layers = [
      { mediaType: 'application/vnd.cncf.model.weight.v1.tar', bytes: await tarOf({ 'model.safetensors': weights }) },
      { mediaType: 'application/vnd.cncf.model.weight.config.v1.tar', bytes: await tarOf({ 'config.json': '{"hidden":8}' }) },
      { mediaType: 'application/vnd.cncf.model.doc.v1.tar+gzip', bytes: await tarOf({ 'README.md': '# hand made\n', 'docs/LICENSE': 'MIT\n' }, { gzip: true }) },
      { mediaType: 'application/vnd.cncf.model.weight.v1.raw', bytes: Buffer.from('raw tokenizer'), annotations: { 'org.cncf.model.filepath': 'tokenizer/tokenizer.model' } },
    ];
    await pushHandArtifact(reg.host, 'hand/model', ['v1', 'prod'], layers, { credentials: creds() });
    const ci = tempDir();
    const url = `${reg.url}/hand/model`;
    const pulled = await cli(ci, ['pull', 'model@v1', '--remote', url, '--out', 'out', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(join(ci, 'out/model.safetensors')).equals(weights)).toBe(true);
    expect(readFileSync(join(ci, 'out/config.json'), 'utf8')).toBe('{"hidden":8}');
    expect(readFileSync(join(ci, 'out/docs/LICENSE'), 'utf8')).toBe('MIT\n');
    expect(readFileSync(join(ci, 'out/tokenizer/tokenizer.model'), 'utf8')).toBe('raw tokenizer');
    const v = pulled.json().version;
    expect(v.model).toBe('model');
    // The same artifact under another tag is the same version (its id depends on the artifact alone).
    const again = await cli(ci, ['pull', 'model@prod', '--remote', url, '--out', 'out2', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().version.id).toBe(v.id);
    expect((await cli(ci, ['pull', 'model@nosuch', '--remote', url, '--out', 'x'])).code).toBe(3);
  });
});

