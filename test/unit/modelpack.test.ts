/**
 * The ModelPack mapping (src/core/modelpack.ts, oci-artifact.ts) and the schema it is held
 * to: the upstream schema copy, its 27 upstream test cases, the artifact of a version, and
 * the checks an untrusted artifact must pass.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelctlError } from '../../src/errors.js';
import { FORMAT_VERSION, manifestId, serializeManifest, type VersionManifest } from '../../src/core/manifest.js';
import { ANNOTATION, MODEL_ARTIFACT_TYPE, MODEL_CONFIG_MEDIA_TYPE, MODELCTL_VERSION_MEDIA_TYPE, buildVersionArtifact, layerKindOf } from '../../src/core/modelpack.js';
import { MODELPACK_CONFIG_SCHEMA, modelPackConfigErrors } from '../../src/core/modelpack-schema.js';
import { classifyOciTag, foreignLayers, ociTagOf, pairFileLayers, parseOciManifest, versionIdOf } from '../../src/core/oci-artifact.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'modelpack');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof ModelctlError ? err.code : 'not a ModelctlError';
  }
}

function version(files: { path: string; size: number }[]): { m: VersionManifest; bytes: Buffer; id: string; sha256: Map<string, string> } {
  const m: VersionManifest = {
    format: FORMAT_VERSION,
    model: 'team/fraud',
    files: files.map((f) => ({ path: f.path, size: f.size, mode: 0o644, digest: sha(`file:${f.path}`) })).sort((a, b) => (a.path < b.path ? -1 : 1)),
    lineage: {
      code: { commit: 'c0ffee'.repeat(6) + 'abcd', branch: 'main', dirty: false, diffHash: null, remote: 'https://git.example/acme/fraud.git', root: '/src' },
      data: [],
      params: { lr: 0.01 },
      metrics: { auc: 0.9 },
      parent: null,
      environment: { modelctl: '0.1.0', node: 'v20', os: 'linux', hostname: 'h', user: 'u', ci: null },
      argv: ['commit'],
    },
    created: '2026-11-28T09:00:00.000Z',
    author: 'ana@example.com',
    message: 'first model',
  };
  const bytes = serializeManifest(m);
  return { m, bytes, id: manifestId(bytes), sha256: new Map(m.files.map((f) => [f.digest, sha(`bytes:${f.path}`)])) };
}

describe('ModelPack config schema', () => {
  it('is the upstream schema, unchanged', () => {
    expect(JSON.parse(JSON.stringify(MODELPACK_CONFIG_SCHEMA))).toEqual(fixture('config-schema.json'));
  });

  it('has its generated validator in step with it (npm run gen:modelpack regenerates it)', async () => {
    // @ts-expect-error — a plain .mjs build script, no declarations
    const gen = (await import('../../src/gen-modelpack-validator.mjs')) as { GENERATED: string; modelPackValidatorSource: () => Promise<string> };
    expect(readFileSync(gen.GENERATED, 'utf8')).toBe(await gen.modelPackValidatorSource());
  });

  it('passes and fails the 27 upstream test cases as upstream does', async () => {
    const cases = fixture('config-test-cases.json') as { comment: string; expect_fail: boolean; config: unknown; config_is_valid_json: boolean }[];
    expect(cases).toHaveLength(27);
    for (const c of cases.filter((x) => x.config_is_valid_json)) {
      const errors = await modelPackConfigErrors(c.config);
      expect(errors.length > 0, c.comment).toBe(c.expect_fail);
    }
    expect(await modelPackConfigErrors(fixture('config.example.json'))).toEqual([]);
  });
});

describe('the artifact of a version', () => {
  const v = version([
    { path: 'model/model.safetensors', size: 1000 },
    { path: 'model/config.json', size: 20 },
    { path: 'README.md', size: 5 },
    { path: 'src/train.py', size: 7 },
    { path: 'model/group1-shard1of2.bin', size: 9 },
    { path: 'extra/blob.xyz', size: 3 },
  ]);
  const art = buildVersionArtifact(v.m, v.id, v.bytes, v.sha256);

  it('is a ModelPack manifest whose config validates, one raw layer per file, the version last', async () => {
    expect(art.manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(art.manifest.artifactType).toBe(MODEL_ARTIFACT_TYPE);
    expect(art.manifest.config.mediaType).toBe(MODEL_CONFIG_MEDIA_TYPE);
    expect(art.manifest.config.digest).toBe(`sha256:${createHash('sha256').update(art.configBytes).digest('hex')}`);
    const config = JSON.parse(art.configBytes.toString('utf8'));
    expect(await modelPackConfigErrors(config)).toEqual([]);
    expect(config.descriptor.name).toBe('team/fraud');
    expect(config.descriptor.revision).toBe(v.m.lineage.code!.commit);
    expect(config.modelfs.diffIds).toEqual(art.manifest.layers.map((l) => l.digest));
    expect(art.manifest.layers).toHaveLength(v.m.files.length + 1);
    for (const [i, f] of v.m.files.entries()) {
      const l = art.manifest.layers[i];
      expect(l.digest).toBe(`sha256:${v.sha256.get(f.digest)}`);
      expect(l.size).toBe(f.size);
      expect(l.mediaType).toMatch(/^application\/vnd\.cncf\.model\.(weight|weight\.config|doc|code|dataset)\.v1\.raw$/);
      expect(l.annotations?.[ANNOTATION.filepath]).toBe(f.path);
      expect(JSON.parse(l.annotations![ANNOTATION.fileMetadata])).toMatchObject({ name: f.path, size: f.size, mode: 0o644, typeflag: 48 });
    }
    const last = art.manifest.layers.at(-1)!;
    expect(last.mediaType).toBe(MODELCTL_VERSION_MEDIA_TYPE);
    expect(last.digest).toBe(`sha256:${v.id}`);
    expect(last.size).toBe(v.bytes.length);
    expect(versionIdOf(art.manifest)).toBe(v.id);
  });

  it('names each kind as ModelPack does, and marks a guess untested', () => {
    const kindOf = (p: string) => art.manifest.layers.find((l) => l.annotations?.[ANNOTATION.filepath] === p)!;
    expect(kindOf('model/model.safetensors').mediaType).toBe('application/vnd.cncf.model.weight.v1.raw');
    expect(kindOf('model/group1-shard1of2.bin').mediaType).toBe('application/vnd.cncf.model.weight.v1.raw');
    expect(kindOf('model/config.json').mediaType).toBe('application/vnd.cncf.model.weight.config.v1.raw');
    expect(kindOf('README.md').mediaType).toBe('application/vnd.cncf.model.doc.v1.raw');
    expect(kindOf('src/train.py').mediaType).toBe('application/vnd.cncf.model.code.v1.raw');
    expect(kindOf('extra/blob.xyz').annotations?.[ANNOTATION.untested]).toBe('true');
    expect(kindOf('README.md').annotations?.[ANNOTATION.untested]).toBe('false');
    expect(layerKindOf('tokenizer.json').kind).toBe('weight.config');
    expect(layerKindOf('LICENSE').kind).toBe('doc');
    expect(layerKindOf('data/train.csv').kind).toBe('dataset');
    expect(layerKindOf('weights.gguf').kind).toBe('weight');
  });

  it('is the same bytes whoever builds it', () => {
    const again = buildVersionArtifact(v.m, v.id, v.bytes, new Map(v.sha256));
    expect(again.manifestBytes.equals(art.manifestBytes)).toBe(true);
    expect(again.configBytes.equals(art.configBytes)).toBe(true);
  });

  it('pairs back with its version, and an altered one does not', () => {
    const parsed = parseOciManifest(art.manifestBytes, 'the artifact');
    const pairs = pairFileLayers(v.m, parsed, 'the artifact');
    expect([...pairs.keys()].sort()).toEqual(v.m.files.map((f) => f.path).sort());

    const extra = structuredClone(art.manifest);
    extra.layers.unshift({ ...extra.layers[0], annotations: { [ANNOTATION.filepath]: 'other.bin' } });
    expect(code(() => pairFileLayers(v.m, extra, 'x'))).toBe('OCI_LAYERS_MISMATCH');
    const resized = structuredClone(art.manifest);
    resized.layers[0].size += 1;
    expect(code(() => pairFileLayers(v.m, resized, 'x'))).toBe('OCI_LAYERS_MISMATCH');
    const escaping = structuredClone(art.manifest);
    escaping.layers[0].annotations![ANNOTATION.filepath] = '../outside.bin';
    expect(code(() => pairFileLayers(v.m, escaping, 'x'))).toBe('UNSAFE_PATH');
  });
});

describe('foreign artifacts', () => {
  it('reads the spec example (tar layers, no annotations, no modelctl metadata)', () => {
    const m = parseOciManifest(Buffer.from(JSON.stringify(fixture('manifest.example.json'))), 'example');
    expect(versionIdOf(m)).toBeNull();
    const { layers, skipped } = foreignLayers(m, 'example');
    expect(skipped).toEqual([]);
    expect(layers.map((l) => [l.kind, l.packing, l.path])).toEqual([
      ['weight', 'tar', ''],
      ['weight', 'tar', ''],
      ['weight.config', 'tar', ''],
      ['doc', 'tar', ''],
    ]);
  });

  it('refuses unsafe and missing file names before anything is downloaded', () => {
    const layer = (mediaType: string, annotations?: Record<string, string>) => ({ mediaType, digest: `sha256:${'a'.repeat(64)}`, size: 1, ...(annotations ? { annotations } : {}) });
    const manifest = (layers: ReturnType<typeof layer>[]) => ({ schemaVersion: 2 as const, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: layer(MODEL_CONFIG_MEDIA_TYPE), layers });
    expect(code(() => foreignLayers(manifest([layer('application/vnd.cncf.model.weight.v1.raw', { [ANNOTATION.filepath]: '../../etc/passwd' })]), 'x'))).toBe('UNSAFE_PATH');
    expect(code(() => foreignLayers(manifest([layer('application/vnd.cncf.model.weight.v1.raw', { [ANNOTATION.filepath]: '/abs' })]), 'x'))).toBe('UNSAFE_PATH');
    expect(code(() => foreignLayers(manifest([layer('application/vnd.cncf.model.weight.v1.raw')]), 'x'))).toBe('UNNAMED_LAYER');
    expect(code(() => foreignLayers(manifest([layer('application/vnd.cncf.model.weight.v1.raw+gzip', { [ANNOTATION.filepath]: 'a' })]), 'x'))).toBe('INVALID_OCI_MANIFEST');
    const ok = foreignLayers(manifest([layer('application/vnd.cncf.model.weight.v1.raw', { [ANNOTATION.filepath]: 'w/model.onnx' }), layer('application/x-other')]), 'x');
    expect(ok.layers.map((l) => l.path)).toEqual(['w/model.onnx']);
    expect(ok.skipped).toHaveLength(1);
  });

  it('refuses what is not an OCI image manifest', () => {
    expect(code(() => parseOciManifest(Buffer.from('{"schemaVersion":1}'), 'x'))).toBe('INVALID_OCI_MANIFEST');
    expect(code(() => parseOciManifest(Buffer.from('not json'), 'x'))).not.toBeNull();
    expect(code(() => parseOciManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'a', digest: 'sha256:zz', size: 1 }, layers: [] })), 'x'))).toBe('INVALID_OCI_MANIFEST');
  });
});

describe('OCI tags', () => {
  it('maps modelctl tags onto the OCI tag alphabet and classifies what it reads', () => {
    expect(ociTagOf('1.4.0+cuda')).toBe('1.4.0_cuda');
    expect(ociTagOf('baseline')).toBe('baseline');
    expect(classifyOciTag('v12')).toEqual({ kind: 'number', n: 12 });
    expect(classifyOciTag('v0')).toEqual({ kind: 'name', name: 'v0' });
    expect(classifyOciTag('latest')).toEqual({ kind: 'latest' });
    expect(classifyOciTag('_modelctl-events')).toEqual({ kind: 'events' });
    expect(classifyOciTag('production')).toEqual({ kind: 'name', name: 'production' });
    expect(classifyOciTag('_other')).toEqual({ kind: 'other' });
  });
});
