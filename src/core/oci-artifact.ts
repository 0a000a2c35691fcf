/**
 * Reading artifacts from an OCI registry, and the registry layout of a modelctl model
 * (docs/design.md §13): which OCI tag holds what, the event-log artifact, and the checks an
 * untrusted manifest must pass before any of it is used. Pure: no I/O.
 */
import * as z from 'zod';
import { IntegrityError } from '../errors.js';
import { canonicalJsonBytes } from './canonical-json.js';
import type { AuditEvent } from './events.js';
import type { ManifestFile, VersionManifest } from './manifest.js';
import {
  ANNOTATION,
  MODEL_ARTIFACT_TYPE,
  MODEL_CONFIG_MEDIA_TYPE,
  MODELCTL_VERSION_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  sha256OfDigest,
  type LayerKind,
  type OciDescriptor,
  type OciManifest,
} from './modelpack.js';
import { printable } from './names.js';
import { unsafePathReason } from './paths.js';
import { parseUntrustedJson } from './untrusted-json.js';

/** The OCI tag of a model's event log (a leading `_` is a valid OCI tag but never a modelctl tag or stage). */
export const EVENTS_TAG = '_modelctl-events';
export const EVENTS_ARTIFACT_TYPE = 'application/vnd.modelctl.events.v1';
export const EVENT_MEDIA_TYPE = 'application/vnd.modelctl.event.v1+json';
export const EVENT_ANNOTATION = 'org.modelctl.event';
/** The OCI empty descriptor (`{}`), the config of an artifact that needs none. */
export const EMPTY_CONFIG: OciDescriptor = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};
export const EMPTY_CONFIG_BYTES = Buffer.from('{}');

/** The distribution spec's 4 MiB manifest limit (what docker-registry 2.8 enforces). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** The OCI tag of version number `n`. */
export function numberTag(n: number): string {
  return `v${n}`;
}

/**
 * The OCI tag of a modelctl tag: OCI tags have no `+` (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`),
 * so it becomes `_` as Helm does for semver build metadata (`1.0.0+cuda` → `1.0.0_cuda`).
 */
export function ociTagOf(tag: string): string {
  return tag.replace(/\+/g, '_');
}

/** What an OCI tag of a model repository stands for. */
export type OciTagMeaning =
  | { kind: 'number'; n: number }
  | { kind: 'latest' }
  | { kind: 'events' }
  | { kind: 'name'; name: string }
  | { kind: 'other' };

/** Classifies an OCI tag: `v<N>`, `latest`, the event log, a stage or modelctl tag name, or something else (left alone). */
export function classifyOciTag(tag: string): OciTagMeaning {
  const n = /^v([1-9][0-9]{0,15})$/.exec(tag);
  if (n && Number.isSafeInteger(Number(n[1]))) return { kind: 'number', n: Number(n[1]) };
  if (tag === 'latest') return { kind: 'latest' };
  if (tag === EVENTS_TAG) return { kind: 'events' };
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(tag)) return { kind: 'name', name: tag };
  return { kind: 'other' };
}

const DIGEST = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex>');
const descriptorSchema = z.looseObject({
  mediaType: z.string().min(1).max(255),
  digest: DIGEST,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  annotations: z.record(z.string().max(1024), z.string().max(1024 * 1024)).optional(),
});
const manifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.literal(OCI_MANIFEST_MEDIA_TYPE).optional(),
  artifactType: z.string().max(255).optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(100_000),
  annotations: z.record(z.string().max(1024), z.string().max(1024 * 1024)).optional(),
});

/**
 * Parses an untrusted OCI image manifest (bounded, UTF-8, schema-checked); IntegrityError
 * `INVALID_OCI_MANIFEST` (6) naming `what` otherwise. An image index or a Docker schema-2
 * list is refused here: callers ask for image manifests only.
 */
export function parseOciManifest(bytes: Buffer, what: string): OciManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(what, `larger than ${MAX_MANIFEST_BYTES} bytes`);
  const parsed = manifestSchema.safeParse(parseUntrustedJson(bytes, what));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(what, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as OciManifest;
}

function invalid(what: string, why: string): IntegrityError {
  return new IntegrityError('INVALID_OCI_MANIFEST', `${what} is not a valid OCI image manifest: ${why}`, {
    hint: 'the registry holds something modelctl cannot read as a model artifact',
  });
}

/** True when the manifest is a ModelPack model artifact (artifactType, or the ModelPack config type, as KitOps detects it). */
export function isModelPackManifest(m: OciManifest): boolean {
  return m.artifactType === MODEL_ARTIFACT_TYPE || m.config.mediaType === MODEL_CONFIG_MEDIA_TYPE;
}

/** The layer holding modelctl's version manifest, or null for an artifact modelctl did not make. */
export function versionLayerOf(m: OciManifest): OciDescriptor | null {
  const found = m.layers.filter((l) => l.mediaType === MODELCTL_VERSION_MEDIA_TYPE);
  if (found.length > 1) throw invalid('the artifact', `${found.length} modelctl version layers`);
  return found[0] ?? null;
}

/** The version id an artifact made by modelctl carries: its version layer's sha256 (the id is the sha256 of the manifest bytes). */
export function versionIdOf(m: OciManifest): string | null {
  const layer = versionLayerOf(m);
  return layer ? sha256OfDigest(layer.digest) : null;
}

/**
 * Pairs each file of a modelctl version with its layer: exactly one raw ModelPack layer per
 * file, whose `org.cncf.model.filepath` is the file's path and whose size is the file's, and
 * no other layer but the version layer. Anything else means the artifact was altered after
 * modelctl pushed it: IntegrityError `OCI_LAYERS_MISMATCH` (6).
 */
export function pairFileLayers(version: VersionManifest, m: OciManifest, what: string): Map<string, OciDescriptor> {
  const byPath = new Map<string, OciDescriptor>();
  const bad = (why: string) => new IntegrityError('OCI_LAYERS_MISMATCH', `${what} does not match the version it carries: ${why}`, {
    hint: 'the artifact was changed after it was pushed; push the version again from a repository that has it',
  });
  for (const l of m.layers) {
    if (l.mediaType === MODELCTL_VERSION_MEDIA_TYPE) continue;
    const path = l.annotations?.[ANNOTATION.filepath];
    if (path === undefined || !/^application\/vnd\.cncf\.model\.[a-z.]+\.v1\.raw$/.test(l.mediaType)) throw bad(`layer ${l.digest.slice(0, 19)} is not a raw file layer`);
    const why = unsafePathReason(path);
    if (why) throw new IntegrityError('UNSAFE_PATH', `${what} names the unsafe path '${printable(path)}': ${why}`, { hint: 'the artifact was crafted; nothing was written' });
    if (byPath.has(path)) throw bad(`two layers for '${printable(path)}'`);
    byPath.set(path, l);
  }
  const files = new Map<string, ManifestFile>(version.files.map((f) => [f.path, f]));
  for (const [path, l] of byPath) {
    const f = files.get(path);
    if (!f) throw bad(`layer for '${printable(path)}', which the version does not have`);
    if (f.size !== l.size) throw bad(`'${printable(path)}' is ${f.size} bytes, its layer ${l.size}`);
  }
  for (const f of version.files) if (!byPath.has(f.path)) throw bad(`no layer for '${printable(f.path)}'`);
  return byPath;
}

/** How a foreign (not modelctl-made) layer is packed. */
export type LayerPacking = 'raw' | 'tar' | 'tar+gzip' | 'tar+zstd';

/** A layer of an artifact modelctl did not make, as modelctl will place it. */
export interface ForeignLayer {
  layer: OciDescriptor;
  kind: LayerKind | null;
  packing: LayerPacking;
  /** For a raw layer, the file path it becomes (checked safe); for a tar, the folder its entries go under ('' = the root). */
  path: string;
}

/**
 * The layers of a foreign artifact that become files: ModelPack (`application/vnd.cncf.model.<kind>.v1.<packing>`) and
 * KitOps (`application/vnd.kitops.modelkit.<kind>.v1.<packing>`) layers, raw ones named by
 * `org.cncf.model.filepath` (or `org.opencontainers.image.title`), tar ones unpacked. Layers of
 * other types are returned in `skipped`. An unsafe path is IntegrityError `UNSAFE_PATH` (6)
 * before anything is downloaded; a raw layer without a name, `UNNAMED_LAYER` (6).
 */
export function foreignLayers(m: OciManifest, what: string): { layers: ForeignLayer[]; skipped: OciDescriptor[] } {
  const layers: ForeignLayer[] = [];
  const skipped: OciDescriptor[] = [];
  for (const l of m.layers) {
    const t = /^application\/vnd\.(?:cncf\.model|kitops\.modelkit)\.([a-z.]+)\.v1\.(raw|tar)(?:\+(gzip|zstd))?$/.exec(l.mediaType);
    if (!t) {
      skipped.push(l);
      continue;
    }
    const kind = (['weight', 'weight.config', 'doc', 'code', 'dataset'] as const).find((k) => k === t[1]) ?? null;
    if (t[2] === 'raw' && t[3]) {
      throw new IntegrityError('INVALID_OCI_MANIFEST', `${what}: layer ${l.digest.slice(0, 19)} is a compressed raw layer, which ModelPack does not allow`);
    }
    const packing = (t[3] ? `${t[2]}+${t[3]}` : t[2]) as LayerPacking;
    const named = l.annotations?.[ANNOTATION.filepath] ?? l.annotations?.[ANNOTATION.title];
    let path = '';
    if (named !== undefined) {
      const cleaned = packing === 'raw' ? named : named.replace(/\/+$/, '');
      const why = cleaned === '' && packing !== 'raw' ? null : unsafePathReason(cleaned);
      if (why) throw new IntegrityError('UNSAFE_PATH', `${what} names the unsafe path '${printable(named)}': ${why}`, { hint: 'the artifact was crafted; nothing was written' });
      path = cleaned;
    } else if (packing === 'raw') {
      throw new IntegrityError('UNNAMED_LAYER', `${what}: raw layer ${l.digest.slice(0, 19)} has no ${ANNOTATION.filepath} annotation, so it has no file name`, {
        hint: 'annotate each raw layer with its file path (org.cncf.model.filepath)',
      });
    }
    layers.push({ layer: l, kind, packing, path });
  }
  return { layers, skipped };
}

/** The event-log artifact of a model: one layer per event, oldest first. */
export function buildEventsManifest(model: string, layers: readonly OciDescriptor[]): { manifest: OciManifest; bytes: Buffer } {
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: EVENTS_ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: [...layers],
    annotations: { [ANNOTATION.model]: model },
  };
  return { manifest, bytes: canonicalJsonBytes(manifest) };
}

/** The layer descriptor of one published event (its blob is the event's canonical JSON). */
export function eventLayer(event: AuditEvent, bytes: Buffer, sha256hex: string): OciDescriptor {
  return { mediaType: EVENT_MEDIA_TYPE, digest: `sha256:${sha256hex}`, size: bytes.length, annotations: { [EVENT_ANNOTATION]: event.id } };
}

/** The events an event-log manifest lists: layer and event id, in order; layers that are not events are ignored. */
export function eventLayersOf(m: OciManifest): { layer: OciDescriptor; id: string }[] {
  const out: { layer: OciDescriptor; id: string }[] = [];
  for (const l of m.layers) {
    const id = l.annotations?.[EVENT_ANNOTATION];
    if (l.mediaType === EVENT_MEDIA_TYPE && id !== undefined && /^[0-9a-f]{64}$/.test(id)) out.push({ layer: l, id });
  }
  return out;
}
