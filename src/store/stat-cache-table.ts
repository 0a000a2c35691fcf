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
