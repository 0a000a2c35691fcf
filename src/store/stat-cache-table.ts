import type { Statement } from 'better-sqlite3';
import type { Database } from './index-db.js';
import { prepared } from './prepared.js';

/** A `stat_cache` row: the stat key a file had when its digest was taken, and the digest. */
export type StatCacheRow = [size: number, mtimeNs: string, ctimeNs: string, ino: string, digest: string];

/** Prepared once per open index: status looks up every tracked file (10,000s of calls); raw rows, so not through prepared(). */
const lookups = new WeakMap<Database, Statement>();

/** The cached stat key and digest of `absPath`, or undefined. Raw rows (arrays): this runs once per tracked file, and objects cost more to build. */
export function statCacheRow(db: Database, absPath: string): StatCacheRow | undefined {
  let lookup = lookups.get(db);
  if (!lookup) {
    lookup = db.prepare('SELECT size, mtime_ns, ctime_ns, ino, digest FROM stat_cache WHERE path = ?').raw();
    lookups.set(db, lookup);
  }
  return lookup.get(absPath) as StatCacheRow | undefined;
}

/**
 * A file of a version with the stat cache row of its path in the work tree (nulls when it has
 * none): [path, size, digest, then the row's size, mtime ns, ctime ns, inode, and 1 when the
 * row's digest is the file's, else 0].
 */
export type VersionFileCacheRow = [
  path: string,
  size: number,
  digest: string,
  cachedSize: number | null,
  mtimeNs: string | null,
  ctimeNs: string | null,
  ino: string | null,
  cachedIsCommitted: 0 | 1 | null,
];

/** Rows per query of forEachVersionFileWithStatCache (see there). */
const PAGE_ROWS = 500;

/**
 * Calls `each` with every file of version `versionId` (by path) and the stat cache row of
 * `prefix` + its path (`prefix`: the repository root and a separator; on Windows the '/' of
 * manifest paths become `sep`). A join instead of one lookup per file: status reads 10,000s
 * of these, and each separate query takes and drops SQLite's read lock (two fcntl calls and an
 * fstat). Raw rows (objects cost more to build), a page at a time, so that each page is
 * garbage once handled: 10,000 rows held at once outlived the young-generation collections of
 * the stat loop that uses them (measured ~10% slower). The pages are read in one read
 * transaction, all from the same snapshot of the index; `each` must not write to it.
 */
export function forEachVersionFileWithStatCache(db: Database, versionId: string, prefix: string, sep: string, each: (row: VersionFileCacheRow) => void): void {
  const abs = sep === '/' ? '? || f.path' : "? || replace(f.path, '/', ?)";
  const stmt = db
    .prepare(
      `SELECT f.path, f.size, f.digest, s.size, s.mtime_ns, s.ctime_ns, s.ino, s.digest = f.digest
       FROM files f LEFT JOIN stat_cache s ON s.path = ${abs}
       WHERE f.version_id = ? AND f.path > ? ORDER BY f.path LIMIT ${PAGE_ROWS}`,
    )
    .raw();
  db.transaction(() => {
    // Manifest paths are never empty: '' comes before all of them.
    for (let after = ''; ; ) {
      const rows = (sep === '/' ? stmt.all(prefix, versionId, after) : stmt.all(prefix, sep, versionId, after)) as VersionFileCacheRow[];
      for (const row of rows) each(row);
      if (rows.length < PAGE_ROWS) return;
      after = rows[rows.length - 1][0];
    }
  })();
}

/** Forgets the cached digest of `absPath`. */
export function deleteStatCacheRow(db: Database, absPath: string): void {
  prepared(db, 'DELETE FROM stat_cache WHERE path = ?').run(absPath);
}

/** Keeps `row` as the cached stat key and digest of `absPath`, replacing any. */
export function putStatCacheRow(db: Database, absPath: string, row: StatCacheRow): void {
  prepared(
    db,
    `INSERT INTO stat_cache (path, size, mtime_ns, ctime_ns, ino, digest) VALUES (?,?,?,?,?,?)
     ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, ino = excluded.ino, digest = excluded.digest`,
  ).run(absPath, ...row);
}

/** The stored folder listing (JSON text, workspace/stat-cache.ts) of folder `absDir`, or null. */
export function folderListingText(db: Database, absDir: string): string | null {
  const row = prepared(db, 'SELECT listing FROM folder_listings WHERE folder = ?').get(absDir) as { listing: string } | undefined;
  return row?.listing ?? null;
}

/** Keeps `listing` (JSON text) as the folder listing of `absDir`, replacing any. */
export function putFolderListingText(db: Database, absDir: string, listing: string): void {
  prepared(db, 'INSERT INTO folder_listings (folder, listing) VALUES (?, ?) ON CONFLICT(folder) DO UPDATE SET listing = excluded.listing').run(absDir, listing);
}
