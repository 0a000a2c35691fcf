import type { Database } from './index-db.js';

/**
 * Sets or clears a version's archived mark (inside the caller's write transaction, with
 * its audit event). Returns false when the version already had that mark: nothing changed.
 */
export function setArchived(db: Database, versionId: string, archived: boolean): boolean {
  return db.prepare('UPDATE versions SET archived = ? WHERE id = ? AND archived <> ?').run(archived ? 1 : 0, versionId, archived ? 1 : 0).changes === 1;
}
