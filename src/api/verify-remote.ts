import pLimit from 'p-limit';
import { IntegrityError } from '../errors.js';
import { parseManifest, sha256Hex } from '../core/manifest.js';
import { decodeDoc, fileListSchema, keys, removedDocSchema } from '../core/remote-layout.js';
import { listVersions } from '../store/version-records.js';
import { fileDigestFromChunks } from '../store/file-digest.js';
import { fetchInto } from '../sync/fetch.js';
import { openRemoteSession, storeSessionOf } from '../sync/remote-session.js';
import { jobsOrDefault } from '../sync/transfer-progress.js';
import { withRepository, type CommonOptions } from './repository.js';
import type { VerifyProblem, VerifyResult } from './verify-report.js';
import { parseRef } from '../core/refs.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface VerifyRemoteOptions extends CommonOptions {
  /** The version to check on the remote; default: the latest of every model the remote has. */
  ref?: string;
  remote: string;
  /** With an s3:// URL: the S3-compatible endpoint and region. */
  endpoint?: string;
  region?: string;
  jobs?: number;
}

/**
 * Checks what a remote holds for a version: the manifest hashes to its id, every file
 * list hashes to its file, and every chunk is present and hashes to its name (each chunk
 * is downloaded and re-hashed). Reports problems; the CLI exits 6 when there are any.
 */
export async function verifyRemote(opts: VerifyRemoteOptions): Promise<VerifyResult & { remote: string }> {
  return withRepository(opts, async (repo) => {
    const opened = await openRemoteSession(repo.settings, repo.root, { remote: opts.remote, endpoint: opts.endpoint, region: opts.region }, { create: false, db: repo.db, env: repo.env });
    if (opened.kind !== 'store') await opened.protocol.close();
    const session = storeSessionOf(opened, '`verify --remote`');
    const limit = pLimit(jobsOrDefault(opts.jobs));
    const problems: VerifyProblem[] = [];
    let objectsChecked = 0;
    let bytesChecked = 0;
    let manifestsChecked = 0;
    try {
      const fetched = await fetchInto(repo, session, { model: opts.ref ? parseRef(opts.ref).model : undefined, jobs: opts.jobs });
      // A document fetch refused (a corrupt manifest, number, ref or event) is a problem of the remote.
      for (const r of fetched.rejected) problems.push({ kind: r.key.startsWith('versions/') ? 'corrupt-manifest' : 'corrupt-object', id: r.key, detail: r.reason });
      const refs = opts.ref ? [opts.ref] : fetched.models.map((m) => m.model);
      // Removed versions (tombstones, docs/design.md §16) are not checked: the latest is the newest one kept.
      const removedIds = new Set<string>();
      for (const m of new Set(refs.map((r) => parseRef(r).model))) {
        for await (const o of session.remote.list(`models/${m}/removed/`)) {
          const got = await session.remote.get(o.key);
          if (got) removedIds.add(decodeDoc(removedDocSchema, got.body, o.key).version);
        }
      }
      const ids: string[] = [];
      for (const r of refs) {
        if (r.includes('@')) {
          const id = resolveIn(repo, r).id;
          if (removedIds.has(id)) problems.push({ kind: 'missing-manifest', id, detail: `${r} was removed from the remote (modelctl history shows why)` });
          else ids.push(id);
        } else {
          const keptVersion = listVersions(repo.db, r).find((v) => !removedIds.has(v.id));
          if (keptVersion) ids.push(keptVersion.id);
        }
      }
      const chunks = new Set<string>();
      for (const id of ids) {
        manifestsChecked++;
        const got = await session.remote.get(keys.version(id));
        if (!got) {
          problems.push({ kind: 'missing-manifest', id, detail: 'versions/<id>.json is absent on the remote' });
          continue;
        }
        let files;
        try {
          files = parseManifest(got.body, id).files;
        } catch (err) {
          problems.push({ kind: 'corrupt-manifest', id, detail: (err as Error).message });
          continue;
        }
        for (const f of files) {
          if (f.size === 0) continue;
          if (f.chunk) {
            chunks.add(f.chunk);
            continue;
          }
          const list = await session.remote.get(keys.fileList(f.digest));
          if (!list) {
            problems.push({ kind: 'missing-object', id: f.digest, detail: `file list of ${f.path} is absent` });
            continue;
          }
          try {
            const doc = decodeDoc(fileListSchema, list.body, keys.fileList(f.digest));
            if (fileDigestFromChunks(doc.chunks.map(([d]) => d)) !== f.digest) throw new IntegrityError('X', 'its chunks do not hash to the file digest');
            doc.chunks.forEach(([d]) => chunks.add(d));
          } catch (err) {
            problems.push({ kind: 'corrupt-object', id: f.digest, detail: `file list of ${f.path}: ${(err as Error).message}` });
          }
        }
      }
      await Promise.all(
        [...chunks].map((d) =>
          limit(async () => {
            const got = await session.remote.get(keys.chunk(d));
            if (!got) {
              problems.push({ kind: 'missing-object', id: d, detail: 'chunk is absent on the remote' });
              return;
            }
            objectsChecked++;
            bytesChecked += got.body.length;
            const actual = sha256Hex(got.body);
            if (actual !== d) problems.push({ kind: 'corrupt-object', id: d, detail: `chunk bytes hash to ${actual}` });
          }),
        ),
      );
    } finally {
      await session.remote.close();
    }
    return {
      remote: session.displayUrl,
      ok: problems.length === 0,
      objectsChecked,
      bytesChecked,
      manifestsChecked,
      versionsChecked: manifestsChecked,
      problems,
      tempFilesRemoved: 0,
      remoteOnly: 0,
      affected: [],
      withoutRemote: [],
    };
  });
}
