import { readdirSync, statSync, type BigIntStats } from 'node:fs';
import { sep } from 'node:path';
import type { Database } from '../store/index-db.js';
import { deleteStatCacheRow, folderListingText, putFolderListingText, putStatCacheRow, statCacheRow } from '../store/stat-cache-table.js';

/** The stat fields that decide whether a file may have changed. */
export interface StatKey {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
}

/** A file is "racily clean" when modified this close to caching: it is not cached. */
const RACY_WINDOW_NS = 2_000_000_000n;

/**
 * True when `key`'s mtime or ctime is within the racy window of `nowNs`: what was read
 * may not be remembered under that key (a write in the same clock tick would leave it).
 */
export function withinRacyWindow(key: Pick<StatKey, 'mtimeNs' | 'ctimeNs'>, nowNs = BigInt(Date.now()) * 1_000_000n): boolean {
  return nowNs - BigInt(key.mtimeNs) < RACY_WINDOW_NS || nowNs - BigInt(key.ctimeNs) < RACY_WINDOW_NS;
}

/** A stat key with the mode and type that callers also need. */
export type FileStatKey = StatKey & { mode: number; isFile: boolean };

/** Reads the stat key of a file (nanosecond times, inode). Throws ENOENT and other fs errors. */
export function statKey(path: string): FileStatKey {
  return toKey(statSync(path, { bigint: true }));
}

/** statKey, or null when the path does not exist (no exception thrown on the way: status stats every tracked file). */
export function tryStatKey(path: string): FileStatKey | null {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  return st ? toKey(st) : null;
}

function toKey(st: BigIntStats): FileStatKey {
  return { size: Number(st.size), mtimeNs: st.mtimeNs.toString(), ctimeNs: st.ctimeNs.toString(), ino: st.ino.toString(), mode: Number(st.mode), isFile: st.isFile() };
}

/** The cached digest for `absPath` when its stat key is unchanged, else null. */
export function lookupStatCache(db: Database, absPath: string, key: StatKey): string | null {
  const row = statCacheRow(db, absPath);
  return row && sameStatKey(key, row[0], row[1], row[2], row[3]) ? row[4] : null;
}

/**
 * True when a stat cache row's key (size, mtime ns, ctime ns, inode; nulls: no row) is
 * exactly `key`: only then may its digest stand for the file's bytes. Every field counts,
 * ctime and inode too (a rewrite that puts the old mtime back, a file renamed over another).
 */
export function sameStatKey(key: StatKey, size: number | null, mtimeNs: string | null, ctimeNs: string | null, ino: string | null): boolean {
  return size === key.size && mtimeNs === key.mtimeNs && ctimeNs === key.ctimeNs && ino === key.ino;
}

/**
 * Remembers a file's digest under its stat key. Skipped for files changed within the
 * last two seconds (git's "racy clean" rule): a write in the same clock tick as the
 * hash could otherwise hide behind an unchanged mtime.
 */
export function storeStatCache(db: Database, absPath: string, key: StatKey, digest: string, nowNs = BigInt(Date.now()) * 1_000_000n): void {
  if (withinRacyWindow(key, nowNs)) {
    deleteStatCacheRow(db, absPath);
    return;
  }
  putStatCacheRow(db, absPath, [key.size, key.mtimeNs, key.ctimeNs, key.ino, digest]);
}

/**
 * The folder-listing cache: what a plain folder pattern (`model/`) selected, kept with the
 * stat key of every folder under it. Creating, removing or renaming an entry changes its
 * folder's mtime and ctime, so while no folder's key has changed the listing is still what
 * selectFiles would return, and status skips the walk (git's "untracked cache" idea): for
 * 10,000 files that walk costs more than all the rest of status.
 *
 * Sound only while selectFiles' result depends on nothing but the names under the folder,
 * so a listing is not kept when the tree holds a symbolic link (its target can change
 * without any folder here noticing) or a folder changed within the racy window.
 */
interface FolderListing {
  v: 1;
  /** [path under the folder ('' for itself), mtime ns, ctime ns, inode] of every folder. */
  dirs: [string, string, string, string][];
  /** Repository-relative paths of the selected files, as selectFiles returned them. */
  files: string[];
}

/** A walk of a folder taken before selectFiles runs, to be stored with its result. */
export type FolderSnapshot = FolderListing['dirs'];

const LISTING_VERSION = 1;
const IGNORED_FOLDERS = new Set(['.modelctl', '.git']);

/**
 * The cached selection of folder `absDir` (absolute) — repository-relative paths, as
 * selectFiles returned them — or null when absent or stale. Paths only: status makes an
 * entry of its own for each, and 10,000 objects made here would be garbage right away.
 */
export function cachedFolderFiles(db: Database, absDir: string): readonly string[] | null {
  const text = folderListingText(db, absDir);
  if (text === null) return null;
  let listing: FolderListing;
  try {
    listing = JSON.parse(text) as FolderListing;
  } catch {
    return null;
  }
  if (listing.v !== LISTING_VERSION) return null;
  for (const [sub, mtimeNs, ctimeNs, ino] of listing.dirs) {
    const key = tryStatKey(sub ? `${absDir}${sep}${sub}` : absDir);
    if (!key || key.isFile || key.mtimeNs !== mtimeNs || key.ctimeNs !== ctimeNs || key.ino !== ino) return null;
  }
  return listing.files;
}

/**
 * Walks `absDir` recording every folder's stat key. Null when the listing must not be
 * cached: a symbolic link in the tree, a folder changed within the racy window, or an
 * error while walking.
 */
export function snapshotFolder(absDir: string, nowNs = BigInt(Date.now()) * 1_000_000n): FolderSnapshot | null {
  const dirs: FolderSnapshot = [];
  const walk = (sub: string): boolean => {
    const abs = sub ? `${absDir}${sep}${sub}` : absDir;
    const key = tryStatKey(abs);
    if (!key || key.isFile) return false;
    if (withinRacyWindow(key, nowNs)) return false;
    dirs.push([sub, key.mtimeNs, key.ctimeNs, key.ino]);
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (e.isSymbolicLink()) return false;
      if (e.isDirectory() && !IGNORED_FOLDERS.has(e.name) && !walk(sub ? `${sub}${sep}${e.name}` : e.name)) return false;
    }
    return true;
  };
  try {
    return walk('') ? dirs : null;
  } catch {
    return null;
  }
}

/** Keeps what selectFiles returned for `absDir`, with the snapshot taken before it ran. */
export function storeFolderFiles(db: Database, absDir: string, snapshot: FolderSnapshot, files: readonly { rel: string }[]): void {
  const listing: FolderListing = { v: LISTING_VERSION, dirs: snapshot, files: files.map((f) => f.rel) };
  putFolderListingText(db, absDir, JSON.stringify(listing));
}
