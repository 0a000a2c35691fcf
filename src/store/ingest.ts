import { closeSync, fsyncSync, statSync } from 'node:fs';
import { allocatedBytes, assertSpaceFor } from './free-space.js';
import { hashFileSync, type HashedFile } from './hash-file.js';
import type { ObjectStore } from './objects.js';
import { discardTempFile } from './temp-files.js';

// Apart from objects.ts so that commands which only read the store (log, show, ls) do not
// load the hashing code (worker threads, the WebAssembly scanner, the gear table).

/**
 * Hashes `src` in one pass while copying its bytes into a temp file of `store`, then makes
 * the copy the object for its digest (fsync, read-only, rename). If the object exists
 * already, the copy is dropped: objects are never rewritten. Runs of zeros are not written
 * (the object is sparse); NO_SPACE (exit 4) before a byte is written when the copy cannot fit.
 * With `unsyncedDirs` the object's folder is left for the caller to fsync (see
 * ObjectStore.adoptTemp).
 */
export function ingestFile(store: ObjectStore, src: string, unsyncedDirs?: Set<string>): HashedFile & { stored: boolean } {
  // The copy takes at most what the source takes on disk (holes stay holes).
  let size = 0;
  try {
    size = allocatedBytes(statSync(src));
  } catch {
    /* hashFileSync reports it */
  }
  assertSpaceFor(store.tmpDir, size, `storing '${src}'`, store.metaDir);
  const tmp = store.newTemp();
  let result: HashedFile;
  try {
    result = hashFileSync(src, tmp.fd);
    fsyncSync(tmp.fd);
    closeSync(tmp.fd);
  } catch (err) {
    discardTempFile(tmp.path, tmp.fd);
    throw err;
  }
  const stored = store.adoptTemp(tmp.path, result.digest, unsyncedDirs);
  return { ...result, stored };
}
