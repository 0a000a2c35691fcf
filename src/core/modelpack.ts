/**
 * The CNCF ModelPack mapping of a version (docs/design.md §13): pure, no I/O. A version
 * becomes one OCI image manifest with `artifactType application/vnd.cncf.model.manifest.v1+json`,
 * a ModelPack config, one raw layer per file (the layer digest is the file's plain sha256)
 * and one last layer holding modelctl's own version manifest, whose digest is therefore the
 * version id. The manifest depends only on the version manifest and the files' sha256, so
 * every repository that pushes a version produces byte-identical OCI manifests.
 */
import { canonicalJsonBytes } from './canonical-json.js';
import { sha256Hex, type ManifestFile, type VersionManifest } from './manifest.js';

export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const MODEL_ARTIFACT_TYPE = 'application/vnd.cncf.model.manifest.v1+json';
export const MODEL_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.model.config.v1+json';
/** modelctl's version manifest (canonical JSON, format 1) carried as the artifact's last layer. */
export const MODELCTL_VERSION_MEDIA_TYPE = 'application/vnd.modelctl.version.v1+json';

/** Layer kinds of ModelPack (docs/spec.md of modelpack/model-spec). */
export type LayerKind = 'weight' | 'weight.config' | 'doc' | 'code' | 'dataset';

/** The `.raw` (unarchived, uncompressed) media type of a kind. */
export function rawLayerMediaType(kind: LayerKind): string {
  return `application/vnd.cncf.model.${kind}.v1.raw`;
}

export const ANNOTATION = {
  filepath: 'org.cncf.model.filepath',
  fileMetadata: 'org.cncf.model.file.metadata+json',
  untested: 'org.cncf.model.file.mediatype.untested',
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  description: 'org.opencontainers.image.description',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
  authors: 'org.opencontainers.image.authors',
  version: 'org.modelctl.version',
  model: 'org.modelctl.model',
  format: 'org.modelctl.format',
  fileDigest: 'org.modelctl.file.digest',
} as const;

/** An OCI content descriptor. */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An OCI image manifest (the fields modelctl writes and reads). */
export interface OciManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
  subject?: OciDescriptor;
}

/** The ModelPack config blob (`application/vnd.cncf.model.config.v1+json`). */
export interface ModelPackConfig {
  descriptor: {
    createdAt?: string;
    authors?: string[];
    name?: string;
    version?: string;
    description?: string;
    revision?: string;
    sourceURL?: string;
    [k: string]: unknown;
  };
  config: { format?: string; paramSize?: string; precision?: string; [k: string]: unknown };
  modelfs: { type: 'layers'; diffIds: string[] };
}

/** The artifact of one version: the three kinds of bytes a push uploads, and what they are. */
export interface VersionArtifact {
  manifest: OciManifest;
  /** The manifest's bytes as pushed: its digest is `sha256:` + sha256 of these. */
  manifestBytes: Buffer;
  configBytes: Buffer;
  /** One per file, in manifest order (then the version layer last). */
  fileLayers: { file: ManifestFile; layer: OciDescriptor }[];
  versionLayer: OciDescriptor;
}

const WEIGHT_EXT = new Set([
  'safetensors', 'gguf', 'ggml', 'onnx', 'bin', 'pt', 'pth', 'ckpt', 'h5', 'hdf5', 'keras', 'pb', 'tflite', 'lite', 'mlmodel',
  'pkl', 'pickle', 'joblib', 'npz', 'npy', 'msgpack', 'engine', 'plan', 'params', 'mar', 'nemo', 'caffemodel', 'weights', 'ot', 'mlpackage',
]);
const CONFIG_EXT = new Set(['json', 'yaml', 'yml', 'toml', 'cfg', 'ini', 'conf', 'model', 'vocab', 'spm', 'tiktoken', 'proto', 'prototxt', 'xml']);
const CONFIG_NAMES = new Set(['vocab.txt', 'merges.txt', 'labels.txt', 'classes.txt', 'added_tokens.json']);
const DOC_EXT = new Set(['md', 'markdown', 'rst', 'txt', 'pdf', 'html', 'htm', 'adoc', 'png', 'jpg', 'jpeg', 'svg', 'gif']);
const DOC_NAMES = /^(readme|license|licence|notice|copying|changelog|authors|citation|model[-_]?card)(\.|$)/i;
const CODE_EXT = new Set([
  'py', 'ipynb', 'js', 'mjs', 'cjs', 'ts', 'sh', 'bash', 'r', 'go', 'java', 'scala', 'kt', 'c', 'cc', 'cpp', 'h', 'hpp', 'rs', 'jl', 'lua', 'swift', 'rb', 'pl', 'sql',
]);
const CODE_NAMES = new Set(['dockerfile', 'makefile', 'requirements.txt', 'pipfile', 'pyproject.toml', 'setup.cfg', 'environment.yml', 'conda.yaml', 'mlproject']);
const DATASET_EXT = new Set(['csv', 'tsv', 'parquet', 'arrow', 'jsonl', 'avro', 'tfrecord']);
// TF.js weight shards: group1-shard1of2, group1-shard2of2.bin …
const TFJS_SHARD = /-shard\d+of\d+(\.bin)?$/i;

/**
 * The ModelPack kind of a file, by its name, and whether that was a guess: a name that
 * matches none of the known patterns is taken to be weights (what an unknown binary beside
 * a model usually is) and marked `untested`, as the spec's annotation says.
 */
export function layerKindOf(path: string): { kind: LayerKind; untested: boolean } {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf('.');
  const ext = dot > 0 ? lower.slice(dot + 1) : '';
  if (TFJS_SHARD.test(lower)) return { kind: 'weight', untested: false };
  if (CODE_NAMES.has(lower)) return { kind: 'code', untested: false };
  if (CONFIG_NAMES.has(lower)) return { kind: 'weight.config', untested: false };
  if (DOC_NAMES.test(lower)) return { kind: 'doc', untested: false };
  if (WEIGHT_EXT.has(ext)) return { kind: 'weight', untested: false };
  if (CONFIG_EXT.has(ext)) return { kind: 'weight.config', untested: false };
  if (CODE_EXT.has(ext)) return { kind: 'code', untested: false };
  if (DOC_EXT.has(ext)) return { kind: 'doc', untested: false };
  if (DATASET_EXT.has(ext)) return { kind: 'dataset', untested: false };
  return { kind: 'weight', untested: true };
}

const FORMAT_BY_EXT: Record<string, string> = {
  safetensors: 'safetensors', gguf: 'gguf', onnx: 'onnx', pt: 'pt', pth: 'pt', ckpt: 'pt', h5: 'h5', keras: 'keras', tflite: 'tflite', pb: 'tensorflow', mlmodel: 'coreml',
};

/** The model format ModelPack's `config.format` names, from the weight files (one format, or none when mixed or unknown). */
export function modelFormatOf(paths: readonly string[]): string | undefined {
  const formats = new Set<string>();
  for (const p of paths) {
    const lower = p.toLowerCase();
    if (TFJS_SHARD.test(lower)) formats.add('tfjs');
    const f = FORMAT_BY_EXT[lower.slice(lower.lastIndexOf('.') + 1)];
    if (f) formats.add(f);
  }
  return formats.size === 1 ? [...formats][0] : undefined;
}

/** `sha256:<hex>`. */
export function ociDigest(sha256hex: string): string {
  return `sha256:${sha256hex}`;
}

/** The 64 hex digits of a `sha256:` digest, or null for any other form. */
export function sha256OfDigest(digest: string): string | null {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  return m ? m[1] : null;
}

/** The version's ModelPack config (descriptor from the manifest, `diffIds` = the layer digests in order). */
export function buildModelPackConfig(version: VersionManifest, versionId: string, layerDigests: readonly string[]): ModelPackConfig {
  const code = version.lineage.code;
  const format = modelFormatOf(version.files.map((f) => f.path));
  return {
    descriptor: {
      createdAt: version.created,
      ...(version.author ? { authors: [version.author] } : {}),
      name: version.model,
      version: versionId,
      ...(version.message ? { description: version.message } : {}),
      ...(code?.commit ? { revision: code.commit } : {}),
      ...(code?.remote ? { sourceURL: code.remote } : {}),
    },
    config: format ? { format } : {},
    modelfs: { type: 'layers', diffIds: [...layerDigests] },
  };
}

/**
 * Builds the artifact of a version from its manifest bytes (whose sha256 is `versionId`) and
 * each file's plain sha256 (by file digest). Pure and deterministic: the same version gives
 * the same bytes everywhere. Throws TypeError when a file's sha256 is missing (a bug).
 */
export function buildVersionArtifact(version: VersionManifest, versionId: string, versionBytes: Buffer, sha256ByDigest: ReadonlyMap<string, string>): VersionArtifact {
  const fileLayers = version.files.map((file) => {
    const sha = sha256ByDigest.get(file.digest);
    if (!sha) throw new TypeError(`no sha256 for ${file.path}`);
    const { kind, untested } = layerKindOf(file.path);
    const metadata = { name: file.path, mode: file.mode, uid: 0, gid: 0, size: file.size, mtime: version.created, typeflag: 48 };
    const layer: OciDescriptor = {
      mediaType: rawLayerMediaType(kind),
      digest: ociDigest(sha),
      size: file.size,
      annotations: {
        [ANNOTATION.filepath]: file.path,
        [ANNOTATION.fileMetadata]: JSON.stringify(metadata),
        [ANNOTATION.untested]: untested ? 'true' : 'false',
        [ANNOTATION.title]: file.path,
        [ANNOTATION.fileDigest]: file.digest,
      },
    };
    return { file, layer };
  });
  const versionLayer: OciDescriptor = {
    mediaType: MODELCTL_VERSION_MEDIA_TYPE,
    digest: ociDigest(versionId),
    size: versionBytes.length,
    annotations: { [ANNOTATION.version]: versionId },
  };
  const layers = [...fileLayers.map((l) => l.layer), versionLayer];
  const configBytes = canonicalJsonBytes(buildModelPackConfig(version, versionId, layers.map((l) => l.digest)));
  const code = version.lineage.code;
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: MODEL_ARTIFACT_TYPE,
    config: { mediaType: MODEL_CONFIG_MEDIA_TYPE, digest: ociDigest(sha256Hex(configBytes)), size: configBytes.length },
    layers,
    annotations: {
      [ANNOTATION.created]: version.created,
      [ANNOTATION.title]: version.model,
      ...(version.message ? { [ANNOTATION.description]: version.message } : {}),
      ...(version.author ? { [ANNOTATION.authors]: version.author } : {}),
      ...(code?.commit ? { [ANNOTATION.revision]: code.commit } : {}),
      ...(code?.remote ? { [ANNOTATION.source]: code.remote } : {}),
      [ANNOTATION.model]: version.model,
      [ANNOTATION.version]: versionId,
      [ANNOTATION.format]: String(version.format),
    },
  };
  return { manifest, manifestBytes: canonicalJsonBytes(manifest), configBytes, fileLayers, versionLayer };
}
