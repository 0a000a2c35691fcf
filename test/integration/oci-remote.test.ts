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
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelPackConfigErrors } from '../../src/core/modelpack-schema.js';
import { RegistryClient } from '../../src/remote/oci/registry-client.js';
import { RegistryRepository } from '../../src/remote/oci/registry-repository.js';
import { pushHandArtifact, sha256, tarOf } from '../helpers/oci-artifacts.js';
import { dockerConfigDir, registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { remoteAddIn } from '../helpers/setup-api.js';
import { tempDir, tempRepo } from '../helpers/temp-repo.js';
import { skopeo, modelRepo, registryCli } from '../helpers/oci-remote.js';

let reg: RegistryHandle;
let dockerConfig: string;
let env: Record<string, string>;
const creds = () => ({ kind: 'basic' as const, username: reg.username, password: reg.password, source: 'test' });

const { cli, historyOf } = registryCli(() => env);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

describe.skipIf(!registryAvailable())('oci:// remotes', () => {
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
    dockerConfig = dockerConfigDir(reg.host, reg.username, reg.password);
    env = { DOCKER_CONFIG: dockerConfig };
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('round-trips a real model as a ModelPack artifact: same id, lineage, tags, stages and events; skopeo reads it', async () => {
    const a = await modelRepo();
    const url = `${reg.url}/team`;
    await remoteAddIn(a, 'origin', url, { default: true });
    const pushed = await cli(a, ['push', '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const p = pushed.json();
    expect(p.versions).toEqual([expect.objectContaining({ ref: 'detector@v1', status: 'uploaded' })]);
    expect(p.tags).toEqual([expect.objectContaining({ tag: '1.0.0+cpu', status: 'created' })]);
    expect(p.stages).toEqual([expect.objectContaining({ stage: 'staging', status: 'moved' })]);
    expect(p.warnings.length).toBeGreaterThan(0); // the registry's weaker concurrency, said on a ref move
    const again = (await cli(a, ['push', '--json'])).json();
    expect(again.bytesUploaded).toBe(0);
    expect(again.chunks.uploaded).toBe(0);

    // The artifact: ModelPack manifest and config, one raw layer per file with its sha256 and path.
    const client = new RegistryClient({ registry: reg.host, plainHttp: true, credentials: creds() });
    const repo = new RegistryRepository(client, 'team/detector');
    const got = (await repo.getManifest('v1'))!;
    const manifest = JSON.parse(got.bytes.toString('utf8'));
    expect(manifest.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.cncf.model.config.v1+json');
    const shown = (await cli(a, ['show', 'detector@v1', '--json'])).json();
    const files: { path: string; size: number }[] = shown.files;
    for (const f of files) {
      const layer = manifest.layers.find((l: { annotations?: Record<string, string> }) => l.annotations?.['org.cncf.model.filepath'] === f.path);
      expect(layer, f.path).toBeDefined();
      expect(layer.digest).toBe(`sha256:${sha256(readFileSync(join(a, f.path)))}`);
      expect(layer.mediaType).toMatch(/\.v1\.raw$/);
    }
    const kind = (p: string) => manifest.layers.find((l: { annotations?: Record<string, string> }) => l.annotations?.['org.cncf.model.filepath'] === p).mediaType;
    expect(kind('model/wake/silero_vad.onnx')).toBe('application/vnd.cncf.model.weight.v1.raw');
    expect(kind('model/face/tiny_face_detector_model-weights_manifest.json')).toBe('application/vnd.cncf.model.weight.config.v1.raw');
    expect(kind('model/README.md')).toBe('application/vnd.cncf.model.doc.v1.raw');
    expect(kind('train.py')).toBe('application/vnd.cncf.model.code.v1.raw');
    expect(manifest.layers.at(-1).digest).toBe(`sha256:${shown.version.id}`);
    const config = await repo.getBlob(manifest.config.digest);
    const parts: Buffer[] = [];
    for await (const c of config!.res.stream as AsyncIterable<Buffer>) parts.push(c);
    const configBytes = Buffer.concat(parts);
    expect(sha256(configBytes)).toBe(manifest.config.digest.slice(7));
    const configDoc = JSON.parse(configBytes.toString('utf8'));
    expect(await modelPackConfigErrors(configDoc)).toEqual([]);
    expect(configDoc.modelfs.diffIds).toEqual(manifest.layers.map((l: { digest: string }) => l.digest));
    // Stages and tags are OCI tags naming the same manifest.
    expect(await repo.headManifest('staging')).toBe(got.digest);
    expect(await repo.headManifest('1.0.0_cpu')).toBe(got.digest);
    expect(await repo.headManifest('latest')).toBe(got.digest);
    client.close();

    if (skopeo) {
      const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', '--authfile', join(dockerConfig, 'config.json'), `docker://${reg.host}/team/detector:staging`]);
      expect(raw.equals(got.bytes)).toBe(true);
      const tags = JSON.parse(execFileSync('skopeo', ['list-tags', '--tls-verify=false', '--authfile', join(dockerConfig, 'config.json'), `docker://${reg.host}/team/detector`], { encoding: 'utf8' })).Tags;
      expect(tags).toEqual(expect.arrayContaining(['v1', 'latest', 'staging', '1.0.0_cpu']));
    }

    // A second clone fetches the same version, lineage, refs and events.
    const b = tempRepo();
    await remoteAddIn(b, 'origin', url, { default: true });
    const fetched = await cli(b, ['fetch', '--json']);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.json().models[0].newVersions).toHaveLength(1);
    const showB = (await cli(b, ['show', 'detector@staging', '--json'])).json();
    expect(showB.version.id).toBe(shown.version.id);
    expect(showB.lineage).toEqual(shown.lineage);
    expect(showB.version.tags).toEqual(['1.0.0+cpu']);
    expect(showB.version.stages).toEqual(['staging']);
    const ids = async (repoDir: string) => (await historyOf(repoDir)).map((e) => e.id);
    expect(await ids(b)).toEqual(await ids(a));
    expect((await cli(b, ['history', '--verify'])).code).toBe(0);

    // Pulled in the clone and without a repository: the same bytes, verified.
    const pulled = await cli(b, ['pull', 'detector@1.0.0+cpu', '--out', 'restored', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    for (const f of files) expect(readFileSync(join(b, 'restored', f.path)).equals(readFileSync(join(a, f.path))), f.path).toBe(true);
    expect((await cli(b, ['verify'])).code).toBe(0);
    const ci = tempDir();
    const bare = await cli(ci, ['pull', 'detector@staging', '--remote', url, '--out', 'model', '--json']);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.json().repository).toBe(false);
    expect(bare.json().version.id).toBe(shown.version.id);
    expect(listFiles(join(ci, 'model')).filter((f) => !f.startsWith('.modelctl-placed'))).toEqual(files.map((f) => f.path).sort());

    // The registry read without a repository.
    const ls = await cli(ci, ['ls', '--remote', url, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json().models).toEqual([expect.objectContaining({ name: 'detector', versions: 1, stages: { staging: expect.objectContaining({ number: 1 }) } })]);
    const log = await cli(ci, ['log', 'detector', '--remote', url, '--json']);
    expect(log.json().versions.map((v: { id: string }) => v.id)).toEqual([shown.version.id]);
    const remoteShow = await cli(ci, ['show', 'detector@staging', '--remote', url, '--json']);
    expect(remoteShow.json().lineage).toEqual(shown.lineage);
    expect(existsSync(join(ci, '.modelctl'))).toBe(false);
  });

  it('refuses hostile content and writes nothing outside the target', async () => {
    const ci = tempDir();
    const url = (repo: string) => `${reg.url}/${repo}`;
    const nothingEscaped = () => expect(readdirSync(ci).filter((f) => f !== 'out' && f !== 'x')).toEqual([]);
    // A raw layer whose path climbs out of the target.
    await pushHandArtifact(reg.host, 'evil/climb', ['v1'], [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', bytes: Buffer.from('owned'), annotations: { 'org.cncf.model.filepath': '../evil.txt' } }], { credentials: creds() });
    const climb = await cli(join(ci), ['pull', 'climb@v1', '--remote', url('evil/climb'), '--out', 'out/a', '--json']);
    expect(climb.code).toBe(6);
    expect(climb.error().code).toBe('UNSAFE_PATH');
    // A tar entry with ../, and a tar with a link.
    await pushHandArtifact(reg.host, 'evil/tarclimb', ['v1'], [{ mediaType: 'application/vnd.cncf.model.weight.v1.tar', bytes: tarWithEntry('../../evil2.txt', 'owned') }], { credentials: creds() });
    const tarClimb = await cli(ci, ['pull', 'tarclimb@v1', '--remote', url('evil/tarclimb'), '--out', 'out/b', '--json']);
    expect(tarClimb.code).toBe(6);
    await pushHandArtifact(reg.host, 'evil/link', ['v1'], [{ mediaType: 'application/vnd.cncf.model.weight.v1.tar', bytes: await tarOf({ 'a.bin': 'x' }, { links: { 'passwd': '/etc/passwd' } }) }], { credentials: creds() });
    const link = await cli(ci, ['pull', 'link@v1', '--remote', url('evil/link'), '--out', 'out/c', '--json']);
    expect(link.code).toBe(6);
    expect(link.error().code).toBe('UNSUPPORTED_TAR_ENTRY');
    nothingEscaped();
    expect(existsSync(join(ci, 'out'))).toBe(false);

    // A blob whose bytes do not hash to its digest (flipped in the registry's storage).
    const a = await modelRepo();
    await remoteAddIn(a, 'origin', url('tamper'), { default: true });
    expect((await cli(a, ['push'])).code).toBe(0);
    const onnx = readFileSync(join(a, 'model/wake/silero_vad.onnx'));
    const blob = join(reg.storage, 'docker/registry/v2/blobs/sha256', sha256(onnx).slice(0, 2), sha256(onnx), 'data');
    const stored = readFileSync(blob);
    stored[1000] ^= 0x01;
    writeFileSync(blob, stored);
    const bad = await cli(ci, ['pull', 'detector@v1', '--remote', url('tamper'), '--out', 'x', '--json']);
    expect(bad.code).toBe(6);
    expect(bad.error().code).toBe('BLOB_DIGEST_MISMATCH');
    expect(existsSync(join(ci, 'x', 'model'))).toBe(false);
    stored[1000] ^= 0x01;
    writeFileSync(blob, stored);

    // A modelctl artifact whose layer path was changed to climb out after the push.
    const client = new RegistryClient({ registry: reg.host, plainHttp: true, credentials: creds() });
    const r = new RegistryRepository(client, 'tamper/detector');
    const m = JSON.parse((await r.getManifest('v1'))!.bytes.toString('utf8'));
    m.layers[0].annotations['org.cncf.model.filepath'] = '../../outside';
    await r.putManifest('v1', Buffer.from(JSON.stringify(m)));
    client.close();
    const altered = await cli(ci, ['pull', 'detector@v1', '--remote', url('tamper'), '--out', 'x', '--json']);
    expect(altered.code).toBe(6);
    nothingEscaped();
  });

  it('asks for credentials it does not have, and never prints the ones it has', async () => {
    const a = await modelRepo();
    const url = `${reg.url}/auth`;
    const none = await cli(a, ['push', '--remote', url, '--json'], { DOCKER_CONFIG: join(tempDir(), 'empty') });
    expect(none.code).toBe(7);
    expect(none.error().code).toBe('REGISTRY_UNAUTHORIZED');
    const wrongDir = dockerConfigDir(reg.host, reg.username, 'wrong-password-0123456789');
    const wrong = await cli(a, ['push', '--remote', url, '--json'], { DOCKER_CONFIG: wrongDir });
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).not.toContain('wrong-password-0123456789');
    const ok = await cli(a, ['push', '--remote', url, '--json']);
    expect(ok.code).toBe(0);
    for (const out of [none, wrong, ok]) {
      expect(out.stdout + out.stderr).not.toContain(reg.password);
      expect(out.stdout + out.stderr).not.toContain(Buffer.from(`${reg.username}:${reg.password}`).toString('base64'));
    }
  });
});

/** A tar with one regular-file entry named exactly `name` (the tar package refuses to write `..`; this writes the header itself). */
function tarWithEntry(name: string, content: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(content.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const body = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  body.write(content);
  return Buffer.concat([header, body, Buffer.alloc(1024)]);
}

