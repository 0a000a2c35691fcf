import type { LimitFunction } from 'p-limit';
import { IntegrityError } from '../errors.js';
import { keys } from '../core/remote-layout.js';
import { hashFileSync, type ChunkRef } from '../store/hash-file.js';
import { writeTransaction } from '../store/index-db.js';
import { remoteVersionNumber } from '../store/remote-tracking.js';
import { fileChunks, recordFileChunks, versionFiles, type VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { StoreSession } from './remote-session.js';

/** Where one chunk's bytes are read from: a local object, at an offset. */
export interface ChunkSource {
  object: string;
  offset: number;
  length: number;
}

/** What a push uploads (docs/design.md §7, phase 1). */
export interface UploadPlan {
  /** Versions with no manifest on the remote whose bytes are all in the local store. */
  needData: VersionRow[];
  /** Versions whose manifest the remote holds although this index did not know it. */
  alreadyThere: Set<string>;
  /** Versions the remote lacks whose bytes are not in the local store (fetched, never pulled). */
  missingBytes: VersionRow[];
  /** Chunk lists of the files of `needData`, by file digest. */
  fileLists: Map<string, ChunkRef[]>;
  /** Every chunk of those files, once, with where to read it. */
  chunkSources: Map<string, ChunkSource>;
}

/**
 * Decides which versions need their data on the remote: neither remembered as pushed nor
 * with a manifest there (one HEAD each). Of those, a version with a file whose object is
 * not in the local store cannot be pushed from here and is set apart in `missingBytes`;
 * for the others every file's chunk list is gathered (re-chunking a local object the index
 * has no list for, after checking it).
 */
export async function planUpload(repo: Repository, session: StoreSession, versions: readonly VersionRow[], limit: LimitFunction): Promise<UploadPlan> {
  const { remote, remoteId } = session;
  const unknown = versions.filter((v) => remoteVersionNumber(repo.db, remoteId, v.id) === undefined);
  const present = await Promise.all(unknown.map((v) => limit(async () => !!(await remote.head(keys.version(v.id))))));
  const plan: UploadPlan = { needData: [], alreadyThere: new Set(), missingBytes: [], fileLists: new Map(), chunkSources: new Map() };
  unknown.forEach((v, i) => {
    if (present[i]) plan.alreadyThere.add(v.id);
    else if (versionFiles(repo.db, v.id).every((f) => f.size === 0 || repo.store.hasObject(f.digest))) plan.needData.push(v);
    else plan.missingBytes.push(v);
  });
  for (const v of plan.needData) {
    for (const f of versionFiles(repo.db, v.id)) {
      if (plan.fileLists.has(f.digest)) continue;
      let chunks = fileChunks(repo.db, f.digest);
      if (!chunks && f.size > 0) chunks = rechunkLocalObject(repo, f.digest);
      chunks ??= [];
      plan.fileLists.set(f.digest, chunks);
      for (const c of chunks) if (!plan.chunkSources.has(c.digest)) plan.chunkSources.set(c.digest, { object: f.digest, offset: c.offset, length: c.length });
    }
  }
  return plan;
}

/** Chunks a local object the index holds no chunk list for, checking it hashes to its name. */
function rechunkLocalObject(repo: Repository, digest: string): ChunkRef[] {
  const h = hashFileSync(repo.store.objectPath(digest));
  if (h.digest !== digest) throw new IntegrityError('CORRUPT_OBJECT', `object ${digest.slice(0, 12)} is corrupt`, { hint: 'run `modelctl verify`' });
  writeTransaction(repo.db, () => recordFileChunks(repo.db, digest, h.chunks));
  return h.chunks;
}
