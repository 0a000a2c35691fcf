import { chmodSync, closeSync, fsyncSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsError } from '../errors.js';
import { fsyncDir } from '../store/objects.js';
import { createTempFile, discardTempFile, releaseTempFile } from '../store/temp-files.js';

/**
 * Replaces (or creates) `path` with `bytes` atomically: a registered temp file in the same
 * folder, fsynced, renamed over the target. Readers see the old file or the new one, and an
 * interrupted write (SIGINT) leaves only the old file. Throws ModelctlError on I/O errors.
 */
export function writeFileAtomic(path: string, bytes: Buffer | string, mode = 0o644): void {
  const dir = dirname(path);
  let tmp: { path: string; fd: number };
  try {
    tmp = createTempFile(dir, '.tmp');
  } catch (err) {
    throw fsError(err, dir);
  }
  let fd: number | undefined = tmp.fd;
  try {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    // Temp files are created 0600; the result gets ordinary permissions.
    chmodSync(tmp.path, mode);
    renameSync(tmp.path, path);
    releaseTempFile(tmp.path);
  } catch (err) {
    discardTempFile(tmp.path, fd);
    throw fsError(err, path);
  }
  fsyncDir(dir);
}

/** Writes a settings file as indented JSON, atomically (see writeFileAtomic). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
