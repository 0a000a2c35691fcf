import type { Database } from './index-db.js';
import { prepared } from './prepared.js';

/**
 * The version the work tree's placement record of a model names, with the stat key the
 * record had when it was read (workspace/placed-version.ts). Kept in `meta` under
 * `placed_version:<model>`; like the stat cache it is not journaled (docs/design.md §9): it
 * is read again from the record.
 */
export type PlacedVersionMemo = [size: number, mtimeNs: string, ctimeNs: string, ino: string, version: string];

const KEY_PREFIX = 'placed_version:';

/** The memo for `model`, or null (none, or not in this form). */
export function placedVersionMemo(db: Database, model: string): PlacedVersionMemo | null {
  const row = prepared(db, 'SELECT value FROM meta WHERE key = ?').get(KEY_PREFIX + model) as { value: string } | undefined;
  if (!row) return null;
  try {
    const m = JSON.parse(row.value) as unknown;
    const ok = Array.isArray(m) && m.length === 5 && typeof m[0] === 'number' && m.slice(1).every((x) => typeof x === 'string');
    return ok ? (m as PlacedVersionMemo) : null;
  } catch {
    return null;
  }
}

/** Keeps `memo` for `model`, replacing any (inside the caller's write transaction). */
export function putPlacedVersionMemo(db: Database, model: string, memo: PlacedVersionMemo): void {
  prepared(db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(KEY_PREFIX + model, JSON.stringify(memo));
}
