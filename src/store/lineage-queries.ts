import type { Database } from './index-db.js';

/** A version's params or metrics as recorded (values keep their JSON types), by key. */
export function versionKeyValues(db: Database, table: 'params' | 'metrics', versionId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // `table` is one of two literals, never user input.
  for (const r of db.prepare(`SELECT key, value_json AS v FROM ${table} WHERE version_id = ? ORDER BY key`).all(versionId) as { key: string; v: string }[]) {
    out[r.key] = JSON.parse(r.v);
  }
  return out;
}

/** A data input as the index records it. */
export interface DataInputRow {
  kind: 'file' | 'dir' | 'uri';
  source: string;
  digest: string | null;
  size: number | null;
}

/** A version's data inputs in commit order. */
export function versionDataInputs(db: Database, versionId: string): DataInputRow[] {
  return db.prepare('SELECT kind, source, digest, size FROM lineage_inputs WHERE version_id = ? ORDER BY seq').all(versionId) as DataInputRow[];
}

/** Ids of the versions (of any model) that name `versionId` as their parent, oldest first. */
export function childVersionIds(db: Database, versionId: string): string[] {
  return (db.prepare('SELECT id FROM versions WHERE parent_id = ? ORDER BY created_at, id').all(versionId) as { id: string }[]).map((r) => r.id);
}

/** A version's numeric metrics (the sortable, chartable ones), by key. */
export function numericMetrics(db: Database, versionId: string): Record<string, number> {
  const rows = db.prepare('SELECT key, value_num AS n FROM metrics WHERE version_id = ? AND value_num IS NOT NULL ORDER BY key').all(versionId) as { key: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.n]));
}
