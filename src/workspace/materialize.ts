import { chmodSync, closeSync, constants, copyFileSync, ftruncateSync, openSync, readSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { IntegrityError, UsageError, fsError, isErrnoException } from '../errors.js';
import { ChunkHasher, hashFileSync } from '../store/hash-file.js';
import { allocatedBytes, assertSpaceFor } from '../store/free-space.js';
import { writeSparseAt } from '../store/positional-io.js';
import { createTempFile, discardTempFile, linkAsTempFile, releaseTempFile } from '../store/temp-files.js';

export type LinkMode = 'auto' | 'reflink' | 'hardlink' | 'copy' | 'move';
export type LinkUsed = 'reflink' | 'hardlink' | 'copy' | 'move';

const BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Writes the object at `objectPath` to `dest` (atomically: temp file in dest's folder,
 * then rename), verifying the bytes written hash to `digest`. `auto` tries a reflink and
 * falls back to a copy; `hardlink` shares the read-only object (executables are copied,
 * since a shared inode cannot carry its own mode); `move` (pull into a throwaway store)
 * verifies the object and renames it into place, so each byte is written once. With
 * `verified` (the caller checked these very bytes moments ago, as pull does) nothing is
 * hashed again and a copy is a plain kernel copy. Returns the method used.
 */
export function materializeFile(objectPath: string, dest: string, destDir: string, digest: string, mode: number, link: LinkMode, verified = false): LinkUsed {
  const staged = stageFile(objectPath, dest, destDir, digest, mode, link, verified);
  placeStaged(staged.tmp, dest);
  return staged.used;
}

/** A file written and checked beside where it goes, under a registered temp name: placeStaged puts it there. */
export interface StagedFile {
  tmp: string;
  used: LinkUsed;
}

/**
 * Everything materializeFile does but the final rename: the file waits under a temp name
 * in `destDir` (registered, so an interrupt removes it). Checkout stages every file first,
 * so a failure or Ctrl-C before the renames leaves the folder as it was (README, checkout).
 */
export function stageFile(objectPath: string, dest: string, destDir: string, digest: string, mode: number, link: LinkMode, verified = false): StagedFile {
  let used: LinkUsed;
  const check = (path: string) => {
    if (!verified) checkDigest(hashFileSync(path).digest, digest, objectPath);
  };
  if (link === 'move' || (link === 'hardlink' && mode === 0o644)) {
    // The object is verified by reading it; the link then shares those exact bytes (and a
    // move is that link with the store's name removed).
    let tmp: string | undefined;
    try {
      check(objectPath);
      tmp = linkAsTempFile(objectPath, destDir, '.modelctl-tmp');
      if (link === 'move') {
        unlinkSync(objectPath);
        chmodSync(tmp, mode);
      }
      return { tmp, used: link };
    } catch (err) {
      if (tmp) discardTempFile(tmp);
      throw err instanceof IntegrityError ? err : fsError(err, dest);
    }
  }
  const tmp = createTempFile(destDir, '.modelctl-tmp');
  closeSync(tmp.fd);
  try {
    if ((link === 'auto' || link === 'reflink') && tryReflink(objectPath, tmp.path)) {
      check(tmp.path);
      chmodSync(tmp.path, mode);
      used = 'reflink';
    } else if (link === 'reflink') {
      throw new UsageError('REFLINK_UNSUPPORTED', 'this file system does not support reflinks', { hint: 'use --link auto (falls back to a copy) or --link copy' });
    } else {
      const st = statSync(objectPath);
      assertSpaceFor(destDir, allocatedBytes(st), `writing '${dest}'`);
      // A sparse object is copied sparsely (a kernel copy may fill its holes with zeros).
      if (verified && allocatedBytes(st) === st.size) copyFileSync(objectPath, tmp.path);
      else copySparse(objectPath, tmp.path, verified ? null : digest);
      chmodSync(tmp.path, mode);
      used = 'copy';
    }
    return { tmp: tmp.path, used };
  } catch (err) {
    discardTempFile(tmp.path);
    throw err instanceof IntegrityError || err instanceof UsageError ? err : fsError(err, dest);
  }
}

/** Renames a staged file into place (atomically replacing what is there); on failure the temp goes. */
export function placeStaged(tmp: string, dest: string): void {
  try {
    renameSync(tmp, dest);
    releaseTempFile(tmp);
  } catch (err) {
    discardTempFile(tmp);
    throw fsError(err, dest);
  }
}

function tryReflink(src: string, dest: string): boolean {
  try {
    copyFileSync(src, dest, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (err) {
    if (isErrnoException(err) && ['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY'].includes(err.code ?? '')) return false;
    throw err;
  }
}

/**
 * The sparse write of checkout: copies `src` to the fresh file `dest` in one pass, leaving
 * runs of zeros as holes (so a sparse model stays sparse where it is placed); with `digest`
 * it hashes the bytes as they go and checks them.
 */
function copySparse(src: string, dest: string, digest: string | null): void {
  const input = openSync(src, 'r');
  const output = openSync(dest, 'w');
  try {
    const buf = Buffer.allocUnsafe(BUFFER_BYTES);
    const hasher = digest === null ? null : new ChunkHasher();
    let position = 0;
    for (;;) {
      const n = readSync(input, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher?.update(buf, 0, n);
      writeSparseAt(output, buf.subarray(0, n), position);
      position += n;
    }
    ftruncateSync(output, position);
    if (hasher && digest !== null) checkDigest(hasher.finish().digest, digest, src);
  } finally {
    closeSync(input);
    closeSync(output);
  }
}

/** The digest of the object a placement found corrupt (the CORRUPT_OBJECT checkDigest throws), or null for any other error. */
export function corruptObjectDigest(err: unknown): string | null {
  return err instanceof IntegrityError && err.code === 'CORRUPT_OBJECT' && typeof err.data?.digest === 'string' ? err.data.digest : null;
}

function checkDigest(actual: string, expected: string, objectPath: string): void {
  if (actual !== expected) {
    throw new IntegrityError('CORRUPT_OBJECT', `object ${expected.slice(0, 12)} is corrupt (its bytes hash to ${actual.slice(0, 12)})`, {
      hint: 'run `modelctl verify`; pull the version again from a remote to repair it',
      data: { object: objectPath, digest: expected },
    });
  }
}
