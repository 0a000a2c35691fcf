import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { fsError, IntegrityError } from '../errors.js';
import type { Database } from './index-db.js';
import { writeTransaction } from './index-db.js';
import type { ObjectStore } from './objects.js';

/**
 * The plain sha256 of each stored file's whole bytes (docs/design.md §11). modelctl names a
 * file by its chunk-based digest (§4); OpenSSF Model Signing names it by this. It is
 * computed from the store once, the first time a version is signed or checked, and kept in
 * the index (`file_sha256`), so signing or verifying again reads no file bytes.
 */

/** Read size of the one pass: large enough for few syscalls, small enough to stay in cache. */
const READ_BYTES = 1024 * 1024;
let buffer: Buffer | null = null;

/** sha256 hex of a file's bytes, read once into a reused buffer (memory stays flat). */
export function sha256OfFile(path: string): { sha256: string; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  buffer ??= Buffer.allocUnsafe(READ_BYTES);
  const h = createHash('sha256');
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      h.update(n === buffer.length ? buffer : buffer.subarray(0, n));
      size += n;
    }
  } catch (err) {
    throw fsError(err, path);
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), size };
}

/** The recorded whole-file sha256 of each digest that has one. */
export function knownWholeFileSha256(db: Database, digests: readonly string[]): Map<string, string> {
  const get = db.prepare('SELECT sha256 FROM file_sha256 WHERE digest = ?').pluck();
  const out = new Map<string, string>();
  for (const d of new Set(digests)) {
    const v = get.get(d) as string | undefined;
    if (v) out.set(d, v);
  }
  return out;
}

/** Records whole-file sha256 values (idempotent: one file has one sha256). */
export function recordWholeFileSha256(db: Database, values: ReadonlyMap<string, string>): void {
  if (values.size === 0) return;
  writeTransaction(db, () => {
    const ins = db.prepare('INSERT OR IGNORE INTO file_sha256 (digest, sha256) VALUES (?, ?)');
    for (const [d, s] of values) ins.run(d, s);
  });
}

/**
 * The whole-file sha256 of every given file: from the index when known, otherwise read
 * from the local object (and recorded). A file whose object is not in the store fails with
 * IntegrityError OBJECT_MISSING (exit 6) naming it, unless `allowMissing`, which leaves it
 * out of the result. The object must be the size the version says (else CORRUPT_OBJECT).
 */
export function wholeFileSha256(
  db: Database,
  store: ObjectStore,
  files: readonly { path: string; digest: string; size: number }[],
  opts: { allowMissing?: boolean } = {},
): Map<string, string> {
  const known = knownWholeFileSha256(db, files.map((f) => f.digest));
  const computed = new Map<string, string>();
  for (const f of files) {
    if (known.has(f.digest) || computed.has(f.digest)) continue;
    if (!store.hasObject(f.digest)) {
      if (opts.allowMissing) continue;
      throw new IntegrityError('OBJECT_MISSING', `the bytes of '${f.path}' (object ${f.digest.slice(0, 12)}) are not in the local store, so its sha256 is unknown`, {
        hint: 'pull the version first (`modelctl pull <ref>`)',
      });
    }
    const { sha256, size } = sha256OfFile(store.objectPath(f.digest));
    if (size !== f.size) {
      throw new IntegrityError('CORRUPT_OBJECT', `object ${f.digest.slice(0, 12)} of '${f.path}' is ${size} bytes, not ${f.size}`, { hint: 'run `modelctl verify`' });
    }
    computed.set(f.digest, sha256);
  }
  recordWholeFileSha256(db, computed);
  return new Map([...known, ...computed]);
}
