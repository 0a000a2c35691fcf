import { closeSync, fsyncSync } from 'node:fs';
import { ConflictError, ModelctlError, NotFoundError, fsError } from '../errors.js';
import { printable } from '../core/names.js';
import { hashFileSingleThread, hashFileSync, type ChunkRef, type HashedFile } from '../store/hash-file.js';
import { ObjectsReclaimedError, waitForClaims } from '../store/gc-claims.js';
import { assertSpaceFor } from '../store/free-space.js';
import { writeTransaction } from '../store/index-db.js';
import { ingestFile } from '../store/ingest.js';
import { PARALLEL_FILE_BYTES, PARALLEL_TOTAL_BYTES, fsyncPaths, hashFilesParallel, hashThreads, type FileHashTask } from '../store/parallel-hash.js';
import { discardTempFile } from '../store/temp-files.js';
import { fileChunks, hasObjectRow, recordObject } from '../store/version-records.js';
import type { SelectedFile } from '../workspace/file-selection.js';
import { lookupStatCache, statKey, storeStatCache, type FileStatKey, type StatKey } from '../workspace/stat-cache.js';
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
 * Storing many small files pays a temp file, an fsync and a rename each: from this many on,
 * workers take them even when their bytes add up to little (the fsyncs then overlap).
 */
const PARALLEL_STORE_FILES = 16;

interface PendingFile {
  index: number;
  file: SelectedFile;
  key: StatKey;
  mode: 0o644 | 0o755;
}

/**
 * Digests of working files, reading only those whose stat (size, mtime, ctime, inode)
 * changed since they were last hashed (the stat cache). With `store: true` every file's
 * bytes end up in the object store (copied in the same read pass that hashes them) and its
 * chunk map in the index. A big file is hashed on every core (parallel-hash.ts); many small
 * ones are spread over worker threads. Results come in the order of `files`. Stat cache
 * updates and object rows are written in one transaction at the end, after every stored
 * object is on disk: each copy fsynced before its rename, then every folder the renames
 * touched fsynced once (docs/design.md §5). A file may carry the
 * stat key its caller just read (`stat`), which then saves a second stat.
 */
export function hashWorkingFiles(
  repo: Repository,
  files: readonly (SelectedFile & { stat?: FileStatKey })[],
  opts: { store: boolean },
): HashedWorkingFile[] {
  const out: HashedWorkingFile[] = new Array(files.length);
  const pending: PendingFile[] = [];
  files.forEach((f, index) => {
    let key: FileStatKey;
    try {
      // A caller that has just stat'ed the file (status) passes the key along.
      key = f.stat ?? statKey(f.abs);
    } catch (err) {
      throw missingOr(err, f);
    }
    const mode = key.mode & 0o111 ? 0o755 : 0o644;
    const cached = lookupStatCache(repo.db, f.abs, key);
    if (cached && (!opts.store || (repo.store.hasObject(cached) && hasObjectRow(repo.db, cached)))) {
      // Only commit needs the chunk list of an unchanged file (for the manifest and index).
      const chunks = opts.store ? fileChunks(repo.db, cached) : null;
      out[index] = { rel: f.rel, abs: f.abs, size: key.size, mode, digest: cached, chunks, rehashed: false };
    } else {
      pending.push({ index, file: f, key, mode });
    }
  });

  const cacheUpdates: { abs: string; key: StatKey; digest: string }[] = [];
  const objectRows: { digest: string; size: number; chunks: ChunkRef[] }[] = [];
  const accept = (p: PendingFile, hashed: HashedFile) => {
    const after = statKey(p.file.abs);
    if (after.size !== hashed.size || after.mtimeNs !== p.key.mtimeNs) {
      throw new ConflictError('FILE_CHANGED', `'${printable(p.file.rel)}' changed while it was being read`, {
        hint: 'wait for the program writing it to finish, then run the command again',
      });
    }
    if (opts.store) objectRows.push({ digest: hashed.digest, size: hashed.size, chunks: hashed.chunks });
    cacheUpdates.push({ abs: p.file.abs, key: p.key, digest: hashed.digest });
    out[p.index] = { rel: p.file.rel, abs: p.file.abs, size: hashed.size, mode: p.mode, digest: hashed.digest, chunks: hashed.chunks, rehashed: true };
  };

  // Big files one after the other, each on every core; the rest spread over the workers
  // when there is enough of it to pay for starting them, else on this thread.
  const small = pending.filter((p) => p.key.size < PARALLEL_FILE_BYTES);
  const smallBytes = small.reduce((s, p) => s + p.key.size, 0);
  const spread =
    hashThreads() > 1 && small.length > 1 && (smallBytes >= PARALLEL_TOTAL_BYTES || (opts.store && small.length >= PARALLEL_STORE_FILES));
  // Folders that received objects: fsynced once each, below, instead of once per object.
  const unsyncedDirs = opts.store ? new Set<string>() : undefined;
  for (const p of pending) {
    if (spread && p.key.size < PARALLEL_FILE_BYTES) continue;
    accept(p, hashOne(repo, p, unsyncedDirs));
  }
  if (spread) hashSpread(repo, small, unsyncedDirs, accept);
  // The renames must be on disk before the index names the objects.
  if (unsyncedDirs) fsyncPaths(unsyncedDirs);

  if (cacheUpdates.length || objectRows.length) {
    writeTransaction(repo.db, () => {
      for (const o of objectRows) recordObject(repo.db, o.digest, o.size, o.chunks);
      for (const u of cacheUpdates) storeStatCache(repo.db, u.abs, u.key, u.digest);
    });
  }
  return out;
}

/**
 * Runs `record` — a version's write transaction, which calls assertObjectsKept — until it
 * succeeds. When a concurrent gc took objects the version names, it waits for that gc to
 * finish, stores those files again from the working tree (their bytes must still hash the
 * same, else FILE_CHANGED, exit 4), has `beforeRetry` put back anything else gc may have
 * taken, and records again. A gc that keeps winning makes it give up after a few rounds
 * (ObjectsReclaimedError, exit 4); no version is ever recorded over deleted bytes.
 */
export async function recordKeepingObjects<T>(
  repo: Repository,
  record: () => T,
  files: readonly HashedWorkingFile[],
  beforeRetry: () => void,
): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return record();
    } catch (err) {
      if (!(err instanceof ObjectsReclaimedError) || round >= 4) throw err;
      await waitForClaims(repo.db, err.digests);
      const lost = new Set(err.digests);
      const rows: { digest: string; size: number; chunks: ChunkRef[] }[] = [];
      for (const f of files) {
        if (!lost.delete(f.digest)) continue;
        let h: HashedFile;
        try {
          h = ingestFile(repo.store, f.abs);
        } catch (e) {
          throw missingOr(e, f, repo.metaDir);
        }
        if (h.digest !== f.digest) {
          throw new ConflictError('FILE_CHANGED', `'${printable(f.rel)}' changed while it was being committed`, {
            hint: 'wait for the program writing it to finish, then run the command again',
          });
        }
        rows.push({ digest: h.digest, size: h.size, chunks: h.chunks });
      }
      writeTransaction(repo.db, () => {
        for (const r of rows) recordObject(repo.db, r.digest, r.size, r.chunks);
      });
      beforeRetry();
    }
  }
}

/** Hashes one file; with `unsyncedDirs` (storing) its bytes become an object whose folder is added there. */
function hashOne(repo: Repository, p: PendingFile, unsyncedDirs: Set<string> | undefined): HashedFile {
  try {
    return unsyncedDirs ? ingestFile(repo.store, p.file.abs, unsyncedDirs) : hashFileSync(p.file.abs);
  } catch (err) {
    throw missingOr(err, p.file, unsyncedDirs ? repo.metaDir : undefined);
  }
}

/** Whole files on the worker pool; with `unsyncedDirs` (storing), each into its own store temp file. */
function hashSpread(repo: Repository, files: PendingFile[], unsyncedDirs: Set<string> | undefined, accept: (p: PendingFile, h: HashedFile) => void): void {
  const store = unsyncedDirs !== undefined;
  const temps: ({ path: string; fd: number } | undefined)[] = [];
  if (store) assertSpaceFor(repo.store.tmpDir, files.reduce((sum, p) => sum + p.key.size, 0), `storing ${files.length} files`, repo.metaDir);
  try {
    const tasks: FileHashTask[] = files.map((p, i) => {
      if (!store) return { path: p.file.abs };
      return {
        path: p.file.abs,
        openCopy: () => {
          const tmp = repo.store.newTemp();
          temps[i] = tmp;
          return tmp.fd;
        },
      };
    });
    hashFilesParallel(tasks, (i, result) => {
      if (result instanceof Error) throw missingOr(result, files[i].file, store ? repo.metaDir : undefined);
      const tmp = temps[i];
      if (tmp) {
        // The worker has written and fsynced the copy: make it the object (or drop it).
        temps[i] = undefined;
        try {
          closeSync(tmp.fd);
        } catch (err) {
          discardTempFile(tmp.path);
          throw fsError(err, tmp.path);
        }
        repo.store.adoptTemp(tmp.path, result.digest, unsyncedDirs);
      }
      accept(files[i], result);
    }, (task) => {
      // What a worker does, for when none can (see parallel-hash.ts).
      const r = hashFileSingleThread(task.path, task.copyToFd);
      if (task.copyToFd !== undefined) fsyncSync(task.copyToFd);
      return r;
    });
  } finally {
    for (const tmp of temps) if (tmp) discardTempFile(tmp.path, tmp.fd);
  }
}

function missingOr(err: unknown, f: SelectedFile, storeDir?: string): Error {
  const e = fsError(err, f.rel);
  if (e.code === 'FILE_NOT_FOUND') return new NotFoundError('FILE_NOT_FOUND', `'${printable(f.rel)}' does not exist`);
  // Reading never fills a disk: a full one is the store's, where the copy was going (the
  // hashing layer names the source file in every error it wraps).
  // Refused before anything was written (store/free-space.ts): that message is exact already.
  if (e.code === 'NO_SPACE' && e.data?.needed !== undefined) return e;
  if (e.code === 'NO_SPACE' && storeDir) {
    return new ModelctlError('NO_SPACE', `no space left on the device holding the store (${storeDir}) while storing '${printable(f.rel)}'`, { exitCode: e.exitCode, hint: e.hint, cause: err });
  }
  return e;
}
