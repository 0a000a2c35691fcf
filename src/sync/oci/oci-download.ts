/**
 * Downloading a version's files from an OCI registry (docs/design.md §13). Each file is its
 * layer blob, streamed into a partial file in the store's tmp/ (a dropped connection resumes
 * with Range; an interrupted pull leaves the partial file for the next one) and chunked and
 * hashed as it is written into the modelctl file digest the version manifest names — the check
 * that binds the bytes to the version id — before it becomes an object.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { IntegrityError } from '../../errors.js';
import { parseManifest, type ManifestFile } from '../../core/manifest.js';
import { sha256OfDigest } from '../../core/modelpack.js';
import { pairFileLayers, parseOciManifest } from '../../core/oci-artifact.js';
import { blocksPerBlob, downloadBlob } from '../../remote/oci/blob-download.js';
import type { RegistryRepository } from '../../remote/oci/registry-repository.js';
import { FollowHasher } from '../../store/follow-hash.js';
import type { HashedFile } from '../../store/hash-file.js';
import { writeTransaction } from '../../store/index-db.js';
import { barrier } from '../../store/test-barrier.js';
import { recordObject } from '../../store/version-records.js';
import type { Repository } from '../../workspace/repository.js';
import { splitByStore, type DownloadStats } from '../download-objects.js';
import type { DownloadOutcome } from '../protocol.js';
import type { ProgressListener } from '../transfer-progress.js';
import { registryArtifactOf } from './oci-refs.js';
import type { OciSession } from './oci-session.js';

/** The partial file a blob is downloaded into (named by the blob, so a later pull resumes it). */
export function partialBlobPath(repo: Repository, sha256: string): string {
  return join(repo.store.tmpDir, `oci-partial-${sha256}`);
}

/** Makes `files` of version `versionId` present in the store from the registry, each checked against the file digest its version names. */
export async function downloadFromRegistry(repo: Repository, session: OciSession, versionId: string, files: readonly ManifestFile[], jobs: number, onProgress?: ProgressListener): Promise<DownloadOutcome> {
  const stats: DownloadStats = { files: 0, chunksDownloaded: 0, chunksReused: 0, bytesDownloaded: 0 };
  const verified = new Set<string>();
  // A file the store holds already is one blob reused (its layer is not fetched).
  const { wanted, present } = splitByStore(repo, files);
  stats.chunksReused = present.size;
  if (wanted.size === 0) return { stats, verified };
  const bytes = repo.store.readManifestBytes(versionId);
  if (!bytes) throw new IntegrityError('MANIFEST_MISSING', `the manifest of version ${versionId.slice(0, 12)} is missing from the store`, { hint: 'run `modelctl fetch`, then pull again' });
  const manifest = parseManifest(bytes, versionId);
  const r = session.repository(manifest.model);
  const artifact = await registryArtifactOf(repo, session, r, versionId);
  const layers = pairFileLayers(manifest, parseOciManifest(artifact.bytes, `${r.name}@${artifact.digest}`), `${r.name}@${artifact.digest}`);
  const bytesTotal = [...wanted.values()].reduce((s, f) => s + f.size, 0);
  let bytesDone = 0;
  let itemsDone = 0;
  const progress = () => onProgress?.({ phase: 'downloading', bytesDone, bytesTotal, itemsDone, itemsTotal: wanted.size });
  progress();
  const limit = pLimit(jobs);
  const blocks = blocksPerBlob(jobs, wanted.size);
  await Promise.all(
    [...wanted.values()].map((f) =>
      limit(async () => {
        const sha = sha256OfDigest(layers.get(f.path)!.digest)!;
        const got = await downloadVerifiedFile(repo, r, f, sha, blocks, (n) => {
          bytesDone += n;
          progress();
          if (bytesDone >= 4 * 1024 * 1024) barrier('oci-download-bytes'); // the interrupt tests stop here, part of a blob written
        });
        stats.bytesDownloaded += got;
        stats.chunksDownloaded++;
        stats.files++;
        itemsDone++;
        verified.add(f.digest);
        progress();
      }),
    ),
  );
  return { stats, verified };
}

/**
 * Downloads one file's blob and checks it in the same pass: the file is chunked and hashed
 * as it is written (on a thread of its own, follow-hash.ts), and the file digest that makes
 * must be the one the version manifest names (the version id authenticates it: a stronger
 * check than the layer's sha256, which comes from the registry's manifest and would need a
 * second sha256 pass). The object is then
 * recorded with its chunk map. IntegrityError `BLOB_DIGEST_MISMATCH` (6) for bytes that do
 * not match, the partial file removed. Returns the bytes downloaded.
 */
export async function downloadVerifiedFile(repo: Repository, r: RegistryRepository, f: ManifestFile, sha256: string, blocksInFlight: number, onBytes?: (n: number) => void): Promise<number> {
  const partial = partialBlobPath(repo, sha256);
  let got = 0;
  const hasher = new FollowHasher(partial, f.size, repo.env);
  let hashed: HashedFile;
  try {
    await downloadBlob(r, sha256, f.size, partial, {
      sha256: false,
      durable: repo.store.durable,
      direct: !repo.store.durable,
      follower: hasher,
      blocksInFlight,
      onBytes: (n) => {
        got += n;
        onBytes?.(n);
      },
    });
    hashed = await hasher.finish(f.size);
  } finally {
    hasher.close();
  }
  if (hashed.digest !== f.digest || hashed.size !== f.size) {
    rmSync(partial, { force: true });
    throw new IntegrityError('BLOB_DIGEST_MISMATCH', `${f.path} from ${r.client.registry}/${r.name} does not hash to the file digest its version names`, {
      hint: 'the registry copy is corrupt or was tampered with; nothing was stored',
    });
  }
  repo.store.adoptTemp(partial, f.digest);
  writeTransaction(repo.db, () => {
    recordObject(repo.db, f.digest, f.size, hashed.chunks);
  });
  return got;
}
