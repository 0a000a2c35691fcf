import { statSync, type BigIntStats } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { Database } from '../store/index-db.js';

/** The stat fields that decide whether a file may have changed. */
export interface StatKey {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
}

/** A file is "racily clean" when modified this close to caching: it is not cached. */
const RACY_WINDOW_NS = 2_000_000_000n;

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

interface StatCacheStatements {
  lookup: Statement;
  remove: Statement;
  upsert: Statement;
}
/** Prepared once per open index: status looks up every tracked file (10,000s of calls). */
const statements = new WeakMap<Database, StatCacheStatements>();
function statementsOf(db: Database): StatCacheStatements {
  let s = statements.get(db);
  if (!s) {
    s = {
      lookup: db.prepare('SELECT size, mtime_ns, ctime_ns, ino, digest FROM stat_cache WHERE path = ?').raw(),
      remove: db.prepare('DELETE FROM stat_cache WHERE path = ?'),
      upsert: db.prepare(
        `INSERT INTO stat_cache (path, size, mtime_ns, ctime_ns, ino, digest) VALUES (?,?,?,?,?,?)
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, ino = excluded.ino, digest = excluded.digest`,
      ),
    };
    statements.set(db, s);
  }
  return s;
}

/** The cached digest for `absPath` when its stat key is unchanged, else null. */
export function lookupStatCache(db: Database, absPath: string, key: StatKey): string | null {
  // Raw rows (arrays): this runs once per tracked file, and objects cost more to build.
  const row = statementsOf(db).lookup.get(absPath) as [number, string, string, string, string] | undefined;
  if (!row) return null;
  return row[0] === key.size && row[1] === key.mtimeNs && row[2] === key.ctimeNs && row[3] === key.ino ? row[4] : null;
}

/**
 * Remembers a file's digest under its stat key. Skipped for files changed within the
 * last two seconds (git's "racy clean" rule): a write in the same clock tick as the
 * hash could otherwise hide behind an unchanged mtime.
 */
export function storeStatCache(db: Database, absPath: string, key: StatKey, digest: string, nowNs = BigInt(Date.now()) * 1_000_000n): void {
  if (nowNs - BigInt(key.mtimeNs) < RACY_WINDOW_NS || nowNs - BigInt(key.ctimeNs) < RACY_WINDOW_NS) {
    statementsOf(db).remove.run(absPath);
    return;
  }
  statementsOf(db).upsert.run(absPath, key.size, key.mtimeNs, key.ctimeNs, key.ino, digest);
}
