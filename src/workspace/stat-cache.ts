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

/** Reads the stat key of a file (nanosecond times, inode). */
export function statKey(path: string): StatKey & { mode: number; isFile: boolean } {
  const st: BigIntStats = statSync(path, { bigint: true });
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
      lookup: db.prepare('SELECT size, mtime_ns AS mtimeNs, ctime_ns AS ctimeNs, ino, digest FROM stat_cache WHERE path = ?'),
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
  const row = statementsOf(db).lookup.get(absPath) as (StatKey & { digest: string }) | undefined;
  if (!row) return null;
  return row.size === key.size && row.mtimeNs === key.mtimeNs && row.ctimeNs === key.ctimeNs && row.ino === key.ino ? row.digest : null;
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
