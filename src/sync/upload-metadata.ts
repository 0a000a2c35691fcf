import type { LimitFunction } from 'p-limit';
import { IntegrityError } from '../errors.js';
import { FORMAT_VERSION } from '../core/manifest.js';
import { encodeDoc, keys, type FileList } from '../core/remote-layout.js';
import type { ChunkRef } from '../store/hash-file.js';
import { writeTransaction } from '../store/index-db.js';
import { knownRemoteChunks, rememberRemoteChunks } from '../store/remote-tracking.js';
import type { VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { StoreSession } from './remote-session.js';

/** The index remembers a file list on a remote under this key (beside the chunk digests). */
const fileListMark = (digest: string) => `f:${digest}`;

/**
 * Uploads the chunk lists of multi-chunk files the remote is not known to hold
 * (docs/design.md §7, phase 3: after their chunks, before the manifests naming them).
 */
export async function uploadFileLists(repo: Repository, session: StoreSession, lists: ReadonlyMap<string, ChunkRef[]>, limit: LimitFunction): Promise<void> {
  const multi = [...lists.entries()].filter(([, c]) => c.length > 1);
  if (multi.length === 0) return;
  const known = knownRemoteChunks(repo.db, session.remoteId, multi.map(([d]) => fileListMark(d)));
  await Promise.all(
    multi
      .filter(([d]) => !known.has(fileListMark(d)))
      .map(([digest, chunks]) =>
        limit(async () => {
          const doc: FileList = { format: FORMAT_VERSION, digest, size: chunks.reduce((s, c) => s + c.length, 0), chunks: chunks.map((c) => [c.digest, c.length]) };
          await session.remote.put(keys.fileList(digest), encodeDoc(doc));
        }),
      ),
  );
  writeTransaction(repo.db, () => rememberRemoteChunks(repo.db, session.remoteId, multi.map(([d]) => fileListMark(d))));
}

/** Uploads the stored manifest bytes of each version (docs/design.md §7, phase 4). */
export async function uploadManifests(repo: Repository, session: StoreSession, versions: readonly VersionRow[], limit: LimitFunction): Promise<void> {
  await Promise.all(
    versions.map((v) =>
      limit(async () => {
        const bytes = repo.store.readManifestBytes(v.id);
        if (!bytes) throw new IntegrityError('MANIFEST_MISSING', `the manifest of ${v.model}@v${v.number} is missing locally`, { hint: 'run `modelctl verify`' });
        await session.remote.put(keys.version(v.id), bytes);
      }),
    ),
  );
}
