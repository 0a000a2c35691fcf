import type { Database } from './index-db.js';

/** A local event with its stored canonical payload (the bytes a remote copy must equal). */
export interface LocalEventCopy {
  id: string;
  model: string | null;
  action: string;
  payload: string;
  /** The index records it as on the remote asked about (published there or fetched from there). */
  onRemote: boolean;
}

/** Every local event of `model` (or of every model), with whether `remoteId` is known to hold it. */
export function localEventCopies(db: Database, remoteId: string, model?: string): LocalEventCopy[] {
  const rows = db
    .prepare(
      `SELECT e.id, e.model, e.action, e.payload,
         EXISTS (SELECT 1 FROM remote_events r WHERE r.remote = ? AND r.event_id = e.id) AS onRemote
       FROM events e WHERE e.model IS NOT NULL${model !== undefined ? ' AND e.model = ?' : ''} ORDER BY e.seq`,
    )
    .all(...(model !== undefined ? [remoteId, model] : [remoteId])) as (Omit<LocalEventCopy, 'onRemote'> & { onRemote: number })[];
  return rows.map((r) => ({ ...r, onRemote: r.onRemote === 1 }));
}
