import { ConflictError, NotFoundError, fsError } from '../errors.js';
import { printable } from '../core/names.js';
import { hashFileSync, type ChunkRef } from '../store/hash-file.js';
import { writeTransaction } from '../store/index-db.js';
import { fileChunks, hasObjectRow, recordObject } from '../store/version-records.js';
import type { SelectedFile } from '../workspace/file-selection.js';
import { lookupStatCache, statKey, storeStatCache, type StatKey } from '../workspace/stat-cache.js';
import type { Repository } from './repository.js';

/** A working file with its digest (and chunks, when it was hashed or is in the store). */
export interface HashedWorkingFile {
  rel: string;
  abs: string;
  size: number;
  mode: 0o644 | 0o755;
  digest: string;
  chunks: ChunkRef[] | null;
  /** True when the bytes were read this time (false: the stat cache answered). */
  rehashed: boolean;
}

/**
 * Digests of working files, reading only those whose stat changed since they were last
 * hashed (the stat cache). With `store: true` every file's bytes end up in the object
 * store (copied in the same read pass that hashes them) and its chunk map in the index.
 * Stat cache updates are written in one transaction at the end.
 */
export function hashWorkingFiles(repo: Repository, files: readonly SelectedFile[], opts: { store: boolean }): HashedWorkingFile[] {
  const out: HashedWorkingFile[] = [];
  const cacheUpdates: { abs: string; key: StatKey; digest: string }[] = [];
  const objectRows: { digest: string; size: number; chunks: ChunkRef[] }[] = [];
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const f of files) {
    let key: ReturnType<typeof statKey>;
    try {
      key = statKey(f.abs);
    } catch (err) {
      const e = fsError(err, f.rel);
      if (e.code === 'FILE_NOT_FOUND') throw new NotFoundError('FILE_NOT_FOUND', `'${printable(f.rel)}' does not exist`);
      throw e;
    }
    const mode = key.mode & 0o111 ? 0o755 : 0o644;
    const cached = lookupStatCache(repo.db, f.abs, key);
    if (cached && (!opts.store || (repo.store.hasObject(cached) && hasObjectRow(repo.db, cached)))) {
      out.push({ rel: f.rel, abs: f.abs, size: key.size, mode, digest: cached, chunks: fileChunks(repo.db, cached), rehashed: false });
      continue;
    }
    const hashed = opts.store ? repo.store.ingestFile(f.abs, buffer) : hashFileSync(f.abs, undefined, buffer);
    const after = statKey(f.abs);
    if (after.size !== hashed.size || after.mtimeNs !== key.mtimeNs) {
      throw new ConflictError('FILE_CHANGED', `'${printable(f.rel)}' changed while it was being read`, {
        hint: 'wait for the program writing it to finish, then run the command again',
      });
    }
    if (opts.store) objectRows.push({ digest: hashed.digest, size: hashed.size, chunks: hashed.chunks });
    cacheUpdates.push({ abs: f.abs, key, digest: hashed.digest });
    out.push({ rel: f.rel, abs: f.abs, size: hashed.size, mode, digest: hashed.digest, chunks: hashed.chunks, rehashed: true });
  }
  if (cacheUpdates.length || objectRows.length) {
    writeTransaction(repo.db, () => {
      for (const o of objectRows) recordObject(repo.db, o.digest, o.size, o.chunks);
      for (const u of cacheUpdates) storeStatCache(repo.db, u.abs, u.key, u.digest);
    });
  }
  return out;
}
