import { createHash } from 'node:crypto';
import type { Lineage, ManifestFile } from './manifest.js';

/**
 * The CycloneDX 1.6 ML-BOM of a version (docs/design.md §11), built with
 * @cyclonedx/cyclonedx-library: the model is the BOM's subject, a `machine-learning-model`
 * component with the OMS root digest as its SHA-256, its files as nested `file`
 * components (sha256 of their bytes), a model card (params as properties, metrics as
 * performance metrics, the data inputs as datasets); the data inputs are `data`
 * components with their digests; the code commit is a `vcs` reference; the parent model a
 * dependency; modelctl the tool. The library has no model-card type, so the card is added
 * to its JSON output (the library's JSON validator checks the whole document). No I/O.
 */

/** What the BOM is built from. */
export interface MlBomInput {
  model: string;
  versionId: string;
  number: number;
  created: string;
  author: string;
  message: string;
  files: readonly ManifestFile[];
  /** Whole-file sha256 by modelctl file digest (files without one get no hash). */
  sha256: ReadonlyMap<string, string>;
  /** The OMS subject digest over the files, when every sha256 is known. */
  rootDigest: string | null;
  lineage: Lineage;
  tags: readonly string[];
  stages: readonly string[];
  modelctlVersion: string;
}

type Cdx = typeof import('@cyclonedx/cyclonedx-library');

/** Builds the ML-BOM as a JSON value (CycloneDX 1.6). */
export async function buildMlBom(input: MlBomInput): Promise<Record<string, unknown>> {
  const CDX: Cdx = await import('@cyclonedx/cyclonedx-library');
  const { Models, Enums } = CDX;
  const prop = (name: string, value: unknown) => new Models.Property(name, typeof value === 'string' ? value : JSON.stringify(value));
  const l = input.lineage;

  const bom = new Models.Bom();
  bom.serialNumber = deterministicUrnUuid(`modelctl-bom-v1:${input.versionId}`);
  bom.metadata.timestamp = new Date(input.created);
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'modelctl', { version: input.modelctlVersion, purl: `pkg:npm/modelctl@${input.modelctlVersion}` }));

  const model = new Models.Component(Enums.ComponentType.MachineLearningModel, input.model, {
    bomRef: `model:${input.versionId}`,
    version: `v${input.number}`,
    description: input.message || undefined,
    author: input.author || undefined,
  });
  if (input.rootDigest) model.hashes.set(Enums.HashAlgorithm['SHA-256'], input.rootDigest);
  for (const [k, v] of [
    ['modelctl:version-id', input.versionId],
    ['modelctl:created', input.created],
    ['modelctl:oms-root-digest', input.rootDigest],
    ['modelctl:tags', input.tags.join(',')],
    ['modelctl:stages', input.stages.join(',')],
  ] as const) {
    if (v) model.properties.add(prop(k, v));
  }
  for (const f of input.files) {
    const file = new Models.Component(Enums.ComponentType.File, f.path, { bomRef: `file:${input.versionId}:${f.path}` });
    const sha = input.sha256.get(f.digest);
    if (sha) file.hashes.set(Enums.HashAlgorithm['SHA-256'], sha);
    file.properties.add(prop('modelctl:digest', f.digest));
    file.properties.add(prop('modelctl:size', String(f.size)));
    model.components.add(file);
  }
  if (l.code) {
    model.externalReferences.add(new Models.ExternalReference(vcsUrl(l.code.remote, l.code.root), Enums.ExternalReferenceType.VCS, { comment: `commit ${l.code.commit}${l.code.dirty ? ' (uncommitted changes)' : ''}` }));
    model.properties.add(prop('modelctl:git-commit', l.code.commit));
    if (l.code.branch) model.properties.add(prop('modelctl:git-branch', l.code.branch));
    model.properties.add(prop('modelctl:git-dirty', String(l.code.dirty)));
  }

  const datasets: { ref: string }[] = [];
  l.data.forEach((d, i) => {
    const ref = `data:${input.versionId}:${i}`;
    const c = new Models.Component(Enums.ComponentType.Data, d.source, { bomRef: ref });
    c.properties.add(prop('modelctl:kind', d.kind));
    if (d.digest) c.properties.add(prop('modelctl:digest', d.digest));
    if (d.size !== undefined) c.properties.add(prop('modelctl:size', String(d.size)));
    if (d.files !== undefined) c.properties.add(prop('modelctl:files', String(d.files)));
    if (d.etag) c.properties.add(prop('modelctl:etag', d.etag));
    if (d.versionId) c.properties.add(prop('modelctl:object-version', d.versionId));
    if (d.kind === 'uri' && isUrl(d.source)) c.externalReferences.add(new Models.ExternalReference(d.source, Enums.ExternalReferenceType.Distribution));
    bom.components.add(c);
    model.dependencies.add(c.bomRef);
    datasets.push({ ref });
  });
  if (l.parent) {
    const parent = new Models.Component(Enums.ComponentType.MachineLearningModel, l.parent.model, { bomRef: `model:${l.parent.version}`, description: 'parent model (fine-tuned from)' });
    parent.properties.add(prop('modelctl:version-id', l.parent.version));
    bom.components.add(parent);
    model.dependencies.add(parent.bomRef);
  }
  bom.metadata.component = model;

  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  const doc = JSON.parse(serializer.serialize(bom, { sortLists: true })) as { metadata: { component: Record<string, unknown> } };
  const metrics = Object.entries(l.metrics).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const params = Object.entries(l.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  doc.metadata.component.modelCard = {
    'bom-ref': `model-card:${input.versionId}`,
    modelParameters: { ...(datasets.length ? { datasets } : {}) },
    ...(metrics.length ? { quantitativeAnalysis: { performanceMetrics: metrics.map(([type, value]) => ({ type, value: typeof value === 'string' ? value : JSON.stringify(value) })) } } : {}),
    ...(params.length ? { properties: params.map(([name, value]) => ({ name: `param:${name}`, value: typeof value === 'string' ? value : JSON.stringify(value) })) } : {}),
  };
  return doc as Record<string, unknown>;
}

/** An RFC 4122 URN (version 5 layout) derived from `seed`: the same version always gets the same serial number. */
function deterministicUrnUuid(seed: string): string {
  const b = createHash('sha256').update(seed).digest();
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A git remote as a URL (scp-like `git@host:path` becomes `ssh://git@host/path`); a local repository as file:. */
function vcsUrl(remote: string | null, root: string): string {
  if (remote) {
    const scp = /^([^@/:]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(remote);
    if (scp && !isUrl(remote)) return `ssh://${scp[1] ?? ''}${scp[2]}/${scp[3]}`;
    return remote;
  }
  return `file://${encodeURI(root)}`;
}

function isUrl(s: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+$/.test(s);
}
