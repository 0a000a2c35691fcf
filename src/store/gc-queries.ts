import type { Database } from './index-db.js';

/** A version as gc weighs it: its rank within its model comes from the order. */
export interface GcVersionRow {
  id: string;
  modelId: number;
  model: string;
  number: number;
  tagged: boolean;
  staged: boolean;
  /** Some remote is known to hold it (pushed there or fetched from there). */
  onRemote: boolean;
}

/** Every version, per model newest first, with what keeps its objects. */
export function gcVersionRows(db: Database): GcVersionRow[] {
  const rows = db
    .prepare(
      `SELECT v.id, v.model_id AS modelId, m.name AS model, v.number,
         EXISTS (SELECT 1 FROM tags t WHERE t.version_id = v.id) AS tagged,
         EXISTS (SELECT 1 FROM stages s WHERE s.version_id = v.id) AS staged,
         EXISTS (SELECT 1 FROM remote_versions r WHERE r.version_id = v.id) AS onRemote
       FROM versions v JOIN models m ON m.id = v.model_id ORDER BY v.model_id, v.number DESC`,
    )
    .all() as { id: string; modelId: number; model: string; number: number; tagged: number; staged: number; onRemote: number }[];
  return rows.map((r) => ({ ...r, tagged: r.tagged === 1, staged: r.staged === 1, onRemote: r.onRemote === 1 }));
}

/** The file digests of one version. */
export function versionDigests(db: Database, versionId: string): string[] {
  return (db.prepare('SELECT digest FROM files WHERE version_id = ?').all(versionId) as { digest: string }[]).map((r) => r.digest);
}

/** Every version id the index holds. */
export function indexedVersionIds(db: Database): Set<string> {
  return new Set((db.prepare('SELECT id FROM versions').all() as { id: string }[]).map((r) => r.id));
}

/** Removes the rows of objects gc deletes (inside its write transaction). */
export function deleteObjectRows(db: Database, digests: readonly string[]): void {
  const del = db.prepare('DELETE FROM objects WHERE digest = ?');
  for (const d of digests) del.run(d);
}
