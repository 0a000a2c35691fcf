import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConflictError, IntegrityError, UsageError } from '../errors.js';
import { canonicalJsonBytes } from '../core/canonical-json.js';
import { parseManifest } from '../core/manifest.js';
import { ChunkHasher } from '../store/hash-file.js';
import { MODELCTL_VERSION } from '../version.js';
import { BUNDLE_FORMAT, BUNDLE_MARKER, bundleNames, otherArchiveFormat, wantsGzip, writeBundle, type BundleMarker, type BundleWriteEntry } from '../workspace/bundle.js';
import { withRepository, type CommonOptions } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { eventPayloadsOfVersion } from '../store/history-queries.js';
import { tagsNamingVersion } from '../store/tags-table.js';
import { signaturesOfVersion } from '../store/signatures-table.js';
import { signatureKey } from '../core/signature-layout.js';
import { resolveIn } from '../workspace/resolve-in.js';

/** The version to export and where to write it. */
export interface ExportOptions extends CommonOptions {
  ref: string;
  /** The bundle file to write (`.tar`, or `.tar.gz`/`.tgz` for gzip); relative to cwd. */
  output: string;
  /** Replace an existing file (default: refuse, exit 4). */
  force?: boolean;
}

/** What the bundle holds. */
export interface ExportResult {
  version: VersionSummary;
  /** Absolute path of the bundle written. */
  output: string;
  gzip: boolean;
  /** Distinct file objects in the bundle and their total size. */
  objects: number;
  objectBytes: number;
  events: number;
  /** Signature and attestation bundles carried. */
  signatures: number;
  /** Size of the bundle file. */
  bundleBytes: number;
}

/**
 * Writes one version as a self-contained bundle (workspace/bundle.ts describes the format):
 * marker, manifest bytes as stored, the events about the version, its signature bundles and
 * every file's bytes.
 * Every object is re-hashed while it is written, so a damaged store fails the export (exit 6)
 * instead of producing a bundle the importer would refuse. The file appears atomically.
 */
export async function exportBundle(opts: ExportOptions): Promise<ExportResult> {
  const output = resolve(opts.cwd ?? process.cwd(), opts.output);
  const other = otherArchiveFormat(output);
  if (other !== null) {
    throw new UsageError('BUNDLE_FORMAT_UNSUPPORTED', `${opts.output}: a bundle is a tar archive (.tar, or gzipped: .tar.gz / .tgz), not .${other}`, {
      hint: `name it ${opts.output.replace(/(\.tar)?\.[^./]+$/i, '')}.tar.gz`,
      data: { output: opts.output, format: other },
    });
  }
  if (existsSync(output) && !opts.force) {
    throw new ConflictError('OUTPUT_EXISTS', `${opts.output} exists`, { hint: 'choose another name, or pass --force to replace it' });
  }
  if (existsSync(output) && statSync(output).isDirectory()) throw new UsageError('OUTPUT_IS_FOLDER', `${opts.output} is a folder`, { hint: 'name the bundle file, e.g. -o fraud.tar.gz' });
  return withRepository(opts, async (repo) => {
    const row = resolveIn(repo, opts.ref);
    const version = summarizeVersion(repo.db, row);
    const manifestBytes = repo.store.readManifestBytes(row.id);
    if (!manifestBytes) {
      throw new IntegrityError('MANIFEST_MISSING', `the manifest of ${version.ref} is missing from the store`, { hint: 'run `modelctl verify`' });
    }
    const manifest = parseManifest(manifestBytes, row.id);
    const events = eventPayloadsOfVersion(repo.db, row.id);
    // Signatures travel with the version here as they do through a remote (README, Signing).
    const signatures = signaturesOfVersion(repo.db, row.id);

    const sizes = new Map<string, number>();
    for (const f of manifest.files) sizes.set(f.digest, f.size);
    const objects = [...sizes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([digest, size]) => ({ digest, size }));
    for (const o of objects) {
      if (!repo.store.hasObject(o.digest)) {
        throw new IntegrityError('OBJECT_MISSING', `${version.ref}: the bytes of object ${o.digest.slice(0, 12)} are not in the local store`, {
          hint: `bring them back with \`modelctl pull ${version.ref}\`, then export again`,
        });
      }
    }

    const marker: BundleMarker = {
      kind: 'modelctl-bundle',
      format: BUNDLE_FORMAT,
      modelctl: MODELCTL_VERSION,
      exportedAt: new Date().toISOString(),
      version: {
        id: row.id,
        model: row.model,
        number: row.number,
        tags: tagsNamingVersion(repo.db, row.id),
        stages: version.stages,
      },
      objects,
      events: events.length,
      ...(signatures.length ? { signatures: signatures.length } : {}),
    };
    const markerBytes = canonicalJsonBytes(marker);
    const entries: BundleWriteEntry[] = [
      { name: BUNDLE_MARKER, size: markerBytes.length, body: markerBytes },
      { name: bundleNames.version(row.id), size: manifestBytes.length, body: manifestBytes },
      ...events.map((e, i) => {
        const body = Buffer.from(e.payload, 'utf8');
        return { name: bundleNames.event(i + 1, e.id), size: body.length, body };
      }),
      ...signatures.map((g) => ({ name: signatureKey(g.versionId, g.kind, g.keyHint), size: g.bundle.length, body: g.bundle })),
      ...objects.map((o): BundleWriteEntry => {
        const hasher = new ChunkHasher();
        return {
          name: bundleNames.object(o.digest),
          size: o.size,
          body: {
            file: repo.store.objectPath(o.digest),
            onChunk: (chunk) => hasher.update(chunk),
            onEnd: () => {
              const got = hasher.finish().digest;
              if (got !== o.digest) {
                throw new IntegrityError('OBJECT_CORRUPT', `object ${o.digest.slice(0, 12)} of ${version.ref} is corrupt in the local store (its bytes hash to ${got.slice(0, 12)})`, {
                  hint: 'run `modelctl verify`; pull the version again from a remote if you have one',
                });
              }
            },
          },
        };
      }),
    ];
    const gzip = wantsGzip(output);
    // Entries carry the version's creation time, not the export time: nothing about the exporting machine leaks.
    await writeBundle(output, entries, { gzip, mtime: new Date(manifest.created) });
    return {
      version,
      output,
      gzip,
      objects: objects.length,
      objectBytes: objects.reduce((s, o) => s + o.size, 0),
      events: events.length,
      signatures: signatures.length,
      bundleBytes: statSync(output).size,
    };
  });
}
