import type { Database } from './index-db.js';

/** Every version id, sorted. */
export function allVersionIds(db: Database): string[] {
  return (db.prepare('SELECT id FROM versions ORDER BY id').all() as { id: string }[]).map((r) => r.id);
}

/**
 * Every file digest some version names, with one version that names it and whether every
 * version naming it is known to be held by a remote (pushed there or fetched from there).
 */
export function neededDigests(db: Database): { digest: string; versionId: string; allOnRemote: boolean }[] {
  const rows = db
    .prepare(
      `SELECT f.digest, MIN(f.version_id) AS versionId,
         MIN(EXISTS (SELECT 1 FROM remote_versions r WHERE r.version_id = f.version_id)) AS allOnRemote
       FROM files f GROUP BY f.digest`,
    )
    .all() as { digest: string; versionId: string; allOnRemote: number }[];
  return rows.map((r) => ({ ...r, allOnRemote: r.allOnRemote === 1 }));
}

/**
 * `model@vN` of every version naming one of `digests` (sorted; a digest no version names adds
 * none), and of those the ones no pull can repair: versions whose every damaged digest is
 * named by no version a remote is known to hold (pushed there or fetched from there).
 */
export function refsNaming(db: Database, digests: readonly string[]): { refs: string[]; withoutRemote: string[] } {
  if (digests.length === 0) return { refs: [], withoutRemote: [] };
  const stmt = db.prepare(
    `SELECT DISTINCT m.name || '@v' || v.number AS ref,
       EXISTS (SELECT 1 FROM files g JOIN remote_versions r ON r.version_id = g.version_id WHERE g.digest = f.digest) AS pullable
     FROM files f JOIN versions v ON v.id = f.version_id JOIN models m ON m.id = v.model_id WHERE f.digest = ?`,
  );
  const refs = new Set<string>();
  const repairable = new Set<string>();
  for (const d of digests) {
    for (const r of stmt.all(d) as { ref: string; pullable: number }[]) {
      refs.add(r.ref);
      if (r.pullable === 1) repairable.add(r.ref);
    }
  }
  const sorted = [...refs].sort();
  return { refs: sorted, withoutRemote: sorted.filter((r) => !repairable.has(r)) };
}

/** `model@vN` of each of `versionIds` the index has, and whether some remote is known to hold it. */
export function refsOfVersions(db: Database, versionIds: readonly string[]): { ref: string; onRemote: boolean }[] {
  const stmt = db.prepare(
    `SELECT m.name || '@v' || v.number AS ref, EXISTS (SELECT 1 FROM remote_versions r WHERE r.version_id = v.id) AS onRemote
     FROM versions v JOIN models m ON m.id = v.model_id WHERE v.id = ?`,
  );
  const rows: { ref: string; onRemote: boolean }[] = [];
  for (const id of versionIds) {
    const r = stmt.get(id) as { ref: string; onRemote: number } | undefined;
    if (r) rows.push({ ref: r.ref, onRemote: r.onRemote === 1 });
  }
  return rows;
}

/** Whether some remote is known to hold the version (pushed there or fetched from there). */
export function isVersionOnSomeRemote(db: Database, versionId: string): boolean {
  return db.prepare('SELECT 1 FROM remote_versions WHERE version_id = ? LIMIT 1').get(versionId) !== undefined;
}

/** SQLite's own structural check of the index file ("ok", or what it found wrong). */
export function quickCheck(db: Database): string[] {
  return (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check).filter((m) => m !== 'ok');
}
