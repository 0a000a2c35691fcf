import type { Statement } from 'better-sqlite3';
import type { Database } from './index-db.js';

/**
 * Statements prepared once per open index. Preparing costs more than running a simple
 * query, and a commit of 10,000 files runs each per-file query 10,000 times.
 */
const cache = new WeakMap<Database, Map<string, Statement>>();

/**
 * The statement for `sql` on `db`, prepared on first use and reused after. For queries run
 * with get/all/run only: a statement being iterated cannot run again until the iteration
 * ends, and modes set on it (raw, pluck) would stick for every caller.
 */
export function prepared(db: Database, sql: string): Statement {
  let byText = cache.get(db);
  if (!byText) {
    byText = new Map();
    cache.set(db, byText);
  }
  let stmt = byText.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    byText.set(sql, stmt);
  }
  return stmt;
}
