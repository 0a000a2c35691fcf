/**
 * Pulling an artifact modelctl did not make (docs/design.md §13): a ModelPack (or KitOps)
 * model in a registry, with no modelctl version layer. It is addressed as
 * `<last path segment of the repository>@<OCI tag>` and becomes a local version whose files
 * are its layers: raw layers by their `org.cncf.model.filepath`, tar layers by their entries
 * (regular files only; links and devices are refused). Every path is checked before a byte
 * is written; every blob's sha256 is checked as it streams. The version's manifest is made
 * from the artifact alone (no time or host of the pull in it), so every pull of the same
 * artifact gives the same version id.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { IntegrityError, UsageError } from '../../errors.js';
import { FORMAT_VERSION, manifestId, parseManifest, serializeManifest, versionIdentity, type ManifestFile, type VersionManifest } from '../../core/manifest.js';
import { ANNOTATION, MODEL_CONFIG_MEDIA_TYPE, sha256OfDigest, type OciManifest } from '../../core/modelpack.js';
import { modelPackConfigErrors } from '../../core/modelpack-schema.js';
import { foreignLayers, isModelPackManifest, parseOciManifest, versionIdOf, type ForeignLayer } from '../../core/oci-artifact.js';
import { printable } from '../../core/names.js';
import { unsafePathReason } from '../../core/paths.js';
import { parseRef } from '../../core/refs.js';
import { parseUntrustedJson } from '../../core/untrusted-json.js';
import { blocksPerBlob, downloadBlob } from '../../remote/oci/blob-download.js';
import type { RegistryRepository } from '../../remote/oci/registry-repository.js';
import { hashFileSync } from '../../store/hash-file.js';
import { writeTransaction } from '../../store/index-db.js';
import { findModelId, getVersion, getVersionByNumber, insertVersion, nextVersionNumber, recordObject, type VersionRow } from '../../store/version-records.js';
import { recordWholeFileSha256 } from '../../store/whole-file-sha256.js';
import type { Repository } from '../../workspace/repository.js';
import type { ProgressListener } from '../transfer-progress.js';
import { jobsOrDefault } from '../transfer-progress.js';
import { partialBlobPath } from './oci-download.js';
import type { OciSession } from './oci-session.js';

const EPOCH = '1970-01-01T00:00:00.000Z';

/** What an import found besides the files (warnings for the pull's result). */
export interface ForeignImport {
  version: VersionRow;
  warnings: string[];
}

/**
 * Imports the foreign artifact `ref` names (model = the repository's last segment, selector
 * = its OCI tag), or returns null when the registry has no such tag or the tag holds a
 * modelctl artifact (fetch handles those). UsageError (2) for an artifact that is not a
 * model; IntegrityError (6) for unsafe paths, bad blobs and links in tar layers.
 */
export async function importForeignArtifact(repo: Repository, session: OciSession, ref: string, opts: { jobs?: number; onProgress?: ProgressListener }): Promise<ForeignImport | null> {
  const { model, selector } = parseRef(ref);
  const tag = selector.kind === 'latest' ? 'latest' : selector.kind === 'number' ? `v${selector.number}` : selector.name;
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) return null;
  const r = session.repository(model);
  const got = await r.getManifest(tag);
  if (!got) return null;
  const what = `${session.spec.registry}/${r.name}:${tag}`;
  const oci = parseOciManifest(got.bytes, what);
  if (versionIdOf(oci) !== null) return null;
  const { layers, skipped } = foreignLayers(oci, what);
  if (!isModelPackManifest(oci) && layers.length === 0) {
    throw new UsageError('NOT_A_MODEL_ARTIFACT', `${what} is not a model artifact (artifactType ${oci.artifactType ?? 'none'}, config ${oci.config.mediaType})`, {
      hint: 'modelctl pulls CNCF ModelPack (and KitOps) model artifacts',
    });
  }
  const warnings = skipped.map((l) => `skipped layer ${l.digest.slice(0, 19)} of ${what}: media type ${l.mediaType} is not a model file`);
  const config = await readConfig(r, oci, what, warnings);

  const files: ManifestFile[] = [];
  const limit = pLimit(jobsOrDefault(opts.jobs));
  const blocks = blocksPerBlob(jobsOrDefault(opts.jobs), layers.length);
  const bytesTotal = layers.reduce((s, l) => s + l.layer.size, 0);
  let bytesDone = 0;
  const progress = () => opts.onProgress?.({ phase: 'downloading', bytesDone, bytesTotal, itemsDone: files.length, itemsTotal: layers.length });
  await Promise.all(
    layers.map((l) =>
      limit(async () => {
        const sha = sha256OfDigest(l.layer.digest)!;
        const partial = partialBlobPath(repo, sha);
        await downloadBlob(r, sha, l.layer.size, partial, {
          blocksInFlight: blocks,
          onBytes: (n) => {
            bytesDone += n;
            progress();
          },
        });
        if (l.packing === 'raw') files.push(adoptRaw(repo, partial, l, sha));
        else files.push(...(await unpackTar(repo, partial, l, what)));
      }),
    ),
  );
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    if (files[i].path === files[i - 1].path) throw new IntegrityError('DUPLICATE_PATH', `${what} has two files at '${printable(files[i].path)}'`, { hint: 'the artifact is malformed; nothing was placed' });
  }
  const manifest: VersionManifest = {
    format: FORMAT_VERSION,
    model,
    files,
    lineage: {
      code: null,
      data: [],
      params: {},
      metrics: {},
      parent: null,
      environment: { modelctl: 'oci-import', node: '', os: '', hostname: '', user: '', ci: null },
      argv: [],
    },
    created: isoOr(config?.descriptor?.createdAt ?? oci.annotations?.[ANNOTATION.created]),
    author: String(config?.descriptor?.authors?.[0] ?? oci.annotations?.[ANNOTATION.authors] ?? '').slice(0, 256),
    message: `imported from oci://${session.spec.registry}/${r.name}@${got.digest}${typeof config?.descriptor?.description === 'string' ? `: ${config.descriptor.description}` : ''}`.slice(0, 65536),
  };
  const bytes = serializeManifest(manifest);
  const id = manifestId(bytes);
  parseManifest(bytes, id); // every rule of a version manifest (nested paths, unsafe names) holds
  repo.store.writeManifest(id, bytes);
  const wanted = /^v([1-9][0-9]*)$/.exec(tag);
  writeTransaction(repo.db, () => {
    if (getVersion(repo.db, id)) return;
    const modelId = findModelId(repo.db, model);
    const free = wanted && !getVersionByNumber(repo.db, model, Number(wanted[1]));
    const number = free ? Number(wanted![1]) : modelId === null ? 1 : nextVersionNumber(repo.db, modelId);
    insertVersion(repo.db, { id, manifest, number, identity: versionIdentity(manifest) });
  });
  return { version: getVersion(repo.db, id)!, warnings };
}

interface ConfigSummary {
  descriptor?: { createdAt?: unknown; authors?: unknown[]; description?: unknown };
}

/** The ModelPack config of the artifact (checked against the schema: a warning when it does not hold), or null. */
async function readConfig(r: RegistryRepository, oci: OciManifest, what: string, warnings: string[]): Promise<ConfigSummary | null> {
  if (oci.config.mediaType !== MODEL_CONFIG_MEDIA_TYPE || oci.config.size > 1024 * 1024) return null;
  const blob = await r.getBlob(oci.config.digest);
  if (!blob || blob.from !== 0) {
    warnings.push(`the config of ${what} is missing from the registry`);
    return null;
  }
  const parts: Buffer[] = [];
  for await (const c of blob.res.stream as AsyncIterable<Buffer>) parts.push(c);
  const body = Buffer.concat(parts);
  const { createHash } = await import('node:crypto');
  if (`sha256:${createHash('sha256').update(body).digest('hex')}` !== oci.config.digest) {
    throw new IntegrityError('BLOB_DIGEST_MISMATCH', `the config of ${what} does not hash to its digest`, { hint: 'the registry copy is corrupt or was tampered with; nothing was stored' });
  }
  const value = parseUntrustedJson(body, `the config of ${what}`);
  const errors = await modelPackConfigErrors(value);
  if (errors.length) warnings.push(`the config of ${what} does not follow the ModelPack schema: ${errors.slice(0, 3).join('; ')}`);
  return typeof value === 'object' && value !== null ? (value as ConfigSummary) : null;
}

function isoOr(value: unknown): string {
  if (typeof value !== 'string') return EPOCH;
  const t = Date.parse(value);
  return Number.isFinite(t) ? new Date(t).toISOString() : EPOCH;
}

function modeOf(l: ForeignLayer): 0o644 | 0o755 {
  try {
    const meta = JSON.parse(l.layer.annotations?.[ANNOTATION.fileMetadata] ?? '{}') as { mode?: unknown };
    return typeof meta.mode === 'number' && (meta.mode & 0o111) !== 0 ? 0o755 : 0o644;
  } catch {
    return 0o644;
  }
}

/** A raw layer's downloaded blob becomes the object of the file it names. */
function adoptRaw(repo: Repository, partial: string, l: ForeignLayer, sha256: string): ManifestFile {
  const hashed = hashFileSync(partial);
  repo.store.adoptTemp(partial, hashed.digest);
  writeTransaction(repo.db, () => recordObject(repo.db, hashed.digest, hashed.size, hashed.chunks));
  recordWholeFileSha256(repo.db, new Map([[hashed.digest, sha256]]));
  return { path: l.path, size: hashed.size, mode: modeOf(l), digest: hashed.digest, ...(hashed.chunks.length === 1 ? { chunk: hashed.chunks[0].digest } : {}) };
}

/**
 * The regular files of a tar layer, each written by modelctl (never by the tar reader) to a
 * temp file of the store and made an object. A path that is unsafe, or an entry that is a
 * link, device or FIFO, fails the whole import (IntegrityError 6) and nothing is kept.
 */
async function unpackTar(repo: Repository, partial: string, l: ForeignLayer, what: string): Promise<ManifestFile[]> {
  if (l.packing === 'tar+zstd') {
    const zlib = await import('node:zlib');
    if (!('createZstdDecompress' in zlib)) {
      throw new UsageError('UNSUPPORTED_COMPRESSION', `${what} has a zstd-compressed layer, which this Node.js cannot read`, { hint: 'use Node.js 22.15 or later, or repack the model with gzip or no compression' });
    }
  }
  const { Parser } = await import('tar');
  const out: ManifestFile[] = [];
  const temps: string[] = [];
  const writes: Promise<void>[] = [];
  let failure: Error | null = null;
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry) => {
    const path = String(entry.path).replace(/^(\.\/)+/, '');
    const type = String(entry.type);
    if (failure || type === 'Directory' || path === '' || path === '.') {
      entry.resume();
      return;
    }
    if (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile') {
      failure ??= new IntegrityError('UNSUPPORTED_TAR_ENTRY', `${what} has a ${type} entry '${printable(path)}' in a tar layer; modelctl places regular files only`, { hint: 'repack the model without links or special files; nothing was placed' });
      entry.resume();
      return;
    }
    const why = unsafePathReason(path);
    if (why) {
      failure ??= new IntegrityError('UNSAFE_PATH', `${what} names the unsafe path '${printable(path)}' in a tar layer: ${why}`, { hint: 'the artifact was crafted; nothing was written' });
      entry.resume();
      return;
    }
    const tmp = repo.store.newTemp();
    temps.push(tmp.path);
    const mode: 0o644 | 0o755 = ((entry.mode ?? 0o644) & 0o111) !== 0 ? 0o755 : 0o644;
    writes.push(
      pipeline(entry as unknown as NodeJS.ReadableStream, createWriteStream('', { fd: tmp.fd })).then(() => {
        const hashed = hashFileSync(tmp.path);
        repo.store.adoptTemp(tmp.path, hashed.digest);
        writeTransaction(repo.db, () => recordObject(repo.db, hashed.digest, hashed.size, hashed.chunks));
        out.push({ path, size: hashed.size, mode, digest: hashed.digest, ...(hashed.chunks.length === 1 ? { chunk: hashed.chunks[0].digest } : {}) });
      }),
    );
  });
  try {
    await pipeline(createReadStream(partial), parser as unknown as NodeJS.WritableStream);
    await Promise.all(writes);
  } catch (err) {
    failure ??= err instanceof Error ? err : new Error(String(err));
  } finally {
    for (const t of temps) rmSync(t, { force: true });
  }
  if (failure) {
    if (failure instanceof IntegrityError || failure instanceof UsageError) throw failure;
    throw new IntegrityError('INVALID_TAR_LAYER', `a tar layer of ${what} cannot be read: ${failure.message}`, { hint: 'the artifact is malformed; nothing was placed' });
  }
  rmSync(partial, { force: true });
  return out;
}
