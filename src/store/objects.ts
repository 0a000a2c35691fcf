import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fsError, isErrnoException } from '../errors.js';
import { createTempFile, discardTempFile, releaseTempFile } from './temp-files.js';
import { readRegularFileSync } from './regular-file.js';
import { processAlive } from './process-alive.js';

/**
 * The local content-addressed store under `.modelctl/`:
 *   objects/<2 hex>/<62 hex>   whole files by file digest, read-only, never rewritten
 *   manifests/<2 hex>/<62 hex>.json   version manifests by version id (their stored bytes)
 *   tmp/                       temp files being written; never read as objects
 *   quarantine/<digest>.<ms>   objects whose bytes did not hash to their digest, moved aside
 *   quarantine/<id>.json.<ms>  manifests whose bytes did not hash to their id, moved aside
 *                              (kept for inspection; never read again; safe to delete)
 */
export class ObjectStore {
  readonly objectsDir: string;
  readonly manifestsDir: string;
  readonly tmpDir: string;
  /**
   * False for a throwaway store (a repository-less pull's, docs/design.md §5 "Throwaway
   * stores"): nothing it holds outlives the command or is trusted by a later one without
   * being hashed again, so its writes skip every fsync, as cp, rclone and git checkout do.
   */
  readonly durable: boolean;

  constructor(
    readonly metaDir: string,
    opts: { durable?: boolean } = {},
  ) {
    this.durable = opts.durable ?? true;
    this.objectsDir = join(metaDir, 'objects');
    this.manifestsDir = join(metaDir, 'manifests');
    this.tmpDir = join(metaDir, 'tmp');
  }

  /** Creates the store folders (idempotent). */
  ensureLayout(): void {
    for (const d of [this.objectsDir, this.manifestsDir, this.tmpDir]) mkdirSync(d, { recursive: true });
  }

  /** Where the object with this file digest lives. */
  objectPath(digest: string): string {
    return join(this.objectsDir, digest.slice(0, 2), digest.slice(2));
  }

  /** True when the object is present (not checked for corruption). */
  hasObject(digest: string): boolean {
    return existsSync(this.objectPath(digest));
  }

  /** A new registered temp file inside the store (same file system as objects/). */
  newTemp(suffix = '.tmp'): { path: string; fd: number } {
    try {
      return createTempFile(this.tmpDir, suffix);
    } catch (err) {
      if (isErrnoException(err, 'ENOENT')) {
        mkdirSync(this.tmpDir, { recursive: true });
        return createTempFile(this.tmpDir, suffix);
      }
      throw fsError(err, this.tmpDir);
    }
  }

  /**
   * Moves a complete, fsynced temp file into place as object `digest`; the caller has
   * verified the digest. Returns false (and deletes the temp) when the object existed.
   *
   * The rename reaches the disk when the object's folder is fsynced: here, or — with
   * `unsyncedDirs` — by the caller, who adds the folder to that set and must fsync every
   * folder in it (fsyncPaths) before an index transaction names the object. A batch of
   * objects then costs one fsync per folder instead of one per object (docs/design.md §5).
   */
  adoptTemp(tmpPath: string, digest: string, unsyncedDirs?: Set<string>): boolean {
    const dest = this.objectPath(digest);
    if (existsSync(dest)) {
      discardTempFile(tmpPath);
      // Refresh its time so a concurrent gc's grace period protects the object we reuse.
      try {
        const now = new Date();
        utimesSync(dest, now, now);
      } catch {
        /* not ours to touch (shared store): gc's grace period is then the only guard */
      }
      return false;
    }
    placeReadOnly(tmpPath, dest, this.durable ? unsyncedDirs : new Set());
    return true;
  }

  /**
   * Moves an object whose bytes were found not to hash to its digest out of objects/ into
   * quarantine/ and returns where it went. The store then lacks the object, so a pull brings
   * it again (or stores the workspace's intact copy), and a checkout or verify no longer
   * trips over the same bytes: README, "When verify finds a problem". Objects are never
   * rewritten in place, so the path still holds the bytes that were hashed. Null when the
   * object was already gone (another process moved or removed it first).
   */
  quarantineObject(digest: string): string | null {
    return this.moveToQuarantine(this.objectPath(digest), `${digest}.${Date.now()}`);
  }

  /**
   * quarantineObject for a manifest whose bytes do not hash to its id: the store then lacks
   * it, so a pull brings it again from a remote that holds the version.
   */
  quarantineManifest(id: string): string | null {
    return this.moveToQuarantine(this.manifestPath(id), `${id}.json.${Date.now()}`);
  }

  private moveToQuarantine(path: string, name: string): string | null {
    const dir = join(this.metaDir, 'quarantine');
    const dest = join(dir, name);
    try {
      mkdirSync(dir, { recursive: true });
      renameSync(path, dest);
    } catch (err) {
      if (isErrnoException(err, 'ENOENT')) return null;
      throw fsError(err, path);
    }
    return dest;
  }

  /** Deletes an object (gc only). */
  removeObject(digest: string): void {
    try {
      unlinkSync(this.objectPath(digest));
    } catch (err) {
      if (!isErrnoException(err, 'ENOENT')) throw fsError(err, this.objectPath(digest));
    }
  }

  /** Every object digest present on disk. */
  *listObjects(): Generator<string> {
    yield* listHexTree(this.objectsDir, '');
  }

  /**
   * True when the store holds downloaded file bytes: an object, or a non-empty temp file (a
   * partial download). Metadata alone (manifests, the index) is cheap to fetch again.
   */
  holdsFileBytes(): boolean {
    if (!this.listObjects().next().done) return true;
    let names: string[];
    try {
      names = readdirSync(this.tmpDir);
    } catch {
      return false;
    }
    return names.some((name) => {
      try {
        return statSync(join(this.tmpDir, name)).size > 0;
      } catch {
        return false;
      }
    });
  }

  manifestPath(id: string): string {
    return join(this.manifestsDir, id.slice(0, 2), `${id.slice(2)}.json`);
  }

  /** Stores manifest bytes under their id (atomic, write-once). */
  writeManifest(id: string, bytes: Buffer): void {
    const dest = this.manifestPath(id);
    if (existsSync(dest)) return;
    const tmp = this.newTemp('.json.tmp');
    try {
      writeFully(tmp.fd, bytes);
      if (this.durable) fsyncSync(tmp.fd);
      closeSync(tmp.fd);
    } catch (err) {
      discardTempFile(tmp.path, tmp.fd);
      throw fsError(err, dest);
    }
    placeReadOnly(tmp.path, dest, this.durable ? undefined : new Set());
  }

  /** The stored bytes of a manifest, or null when absent. */
  readManifestBytes(id: string): Buffer | null {
    try {
      // Manifests are capped by their reader (core/manifest.ts); a FIFO planted here must not hang us.
      return readRegularFileSync(this.manifestPath(id), { maxBytes: 256 * 1024 * 1024, follow: false });
    } catch (err) {
      if (isErrnoException(err, 'ENOENT')) return null;
      throw fsError(err, this.manifestPath(id));
    }
  }

  /** Every manifest id present on disk. */
  *listManifests(): Generator<string> {
    for (const name of listHexTree(this.manifestsDir, '.json')) yield name;
  }

  /** Removes temp files left by processes that died (older than `olderThanMs`). */
  sweepTemp(olderThanMs = 60 * 60 * 1000): number {
    let removed = 0;
    let names: string[];
    try {
      names = readdirSync(this.tmpDir);
    } catch {
      return 0;
    }
    const now = Date.now();
    for (const name of names) {
      const p = join(this.tmpDir, name);
      const pid = Number(name.split('-')[0]);
      try {
        const dead = Number.isInteger(pid) && pid !== process.pid && !processAlive(pid);
        if (dead || now - statSync(p).mtimeMs > olderThanMs) {
          unlinkSync(p);
          removed++;
        }
      } catch {
        /* raced with its owner */
      }
    }
    return removed;
  }
}

/**
 * The last step of every store write: a complete, fsynced temp file becomes read-only and
 * is renamed to `dest`, then the folder is fsynced so the rename survives a power loss (or,
 * with `unsyncedDirs`, the folder is added there for the caller to fsync).
 */
function placeReadOnly(tmpPath: string, dest: string, unsyncedDirs?: Set<string>): void {
  try {
    chmodSync(tmpPath, 0o444);
    try {
      renameSync(tmpPath, dest);
    } catch (err) {
      // The object's folder does not exist yet (the first object with this prefix). Creating
      // it only then saves a mkdir per object on a store whose 256 folders all exist.
      if (!isErrnoException(err, 'ENOENT')) throw err;
      mkdirSync(dirname(dest), { recursive: true });
      renameSync(tmpPath, dest);
    }
    releaseTempFile(tmpPath);
    if (unsyncedDirs) unsyncedDirs.add(dirname(dest));
    else fsyncDir(dirname(dest));
  } catch (err) {
    discardTempFile(tmpPath);
    throw fsError(err, dest);
  }
}

function* listHexTree(root: string, suffix: string): Generator<string> {
  let dirs: string[];
  try {
    dirs = readdirSync(root);
  } catch {
    return;
  }
  for (const d of dirs.sort()) {
    if (!/^[0-9a-f]{2}$/.test(d)) continue;
    for (const f of readdirSync(join(root, d)).sort()) {
      if (!f.endsWith(suffix)) continue;
      const rest = f.slice(0, f.length - suffix.length);
      if (/^[0-9a-f]{62}$/.test(rest)) yield d + rest;
    }
  }
}

/** fsync a directory so a rename inside it survives a power loss. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* some file systems refuse fsync on directories; the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeFully(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

