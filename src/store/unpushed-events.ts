import type { AuditEvent, EventAction } from '../core/events.js';
import type { Database } from './index-db.js';

/**
 * Local events not yet published to a remote (`pushed = 0`), and the bookkeeping around
 * them. A tag or stage move is "local" exactly while its event is unpushed: push publishes
 * only those moves, fetch lets the remote win over anything else.
 */

/** An unpushed event with its stored canonical payload (the bytes that get published). */
export interface UnpushedEvent {
  event: AuditEvent;
  payload: string;
}

/** Which actions move a tag, and which move a stage. */
const REF_ACTIONS: Record<'tag' | 'stage', readonly EventAction[]> = {
  tag: ['tag', 'tag-move', 'tag-delete'],
  stage: ['promote', 'rollback'],
};

/** Unpushed events of the given models (or one model), oldest first. */
export function unpushedEvents(db: Database, models: ReadonlySet<string> | string): UnpushedEvent[] {
  const rows = (typeof models === 'string'
    ? db.prepare('SELECT payload FROM events WHERE pushed = 0 AND model = ? ORDER BY seq').all(models)
    : db.prepare('SELECT payload FROM events WHERE pushed = 0 AND model IS NOT NULL ORDER BY seq').all()) as { payload: string }[];
  return rows
    .map((r) => ({ event: JSON.parse(r.payload) as AuditEvent, payload: r.payload }))
    .filter((u) => typeof models === 'string' || (u.event.model !== null && models.has(u.event.model)));
}

/** Unpushed moves of tags (or stages), grouped by model and tag (or stage) name. */
export function unpushedRefMoves(db: Database, models: ReadonlySet<string> | string, kind: 'tag' | 'stage'): Map<string, { model: string; name: string; events: AuditEvent[] }> {
  const out = new Map<string, { model: string; name: string; events: AuditEvent[] }>();
  for (const { event: e } of unpushedEvents(db, models)) {
    const name = e.data[kind];
    if (!REF_ACTIONS[kind].includes(e.action) || typeof name !== 'string' || e.model === null) continue;
    const k = `${e.model}\0${name}`;
    const entry = out.get(k) ?? { model: e.model, name, events: [] };
    entry.events.push(e);
    out.set(k, entry);
  }
  return out;
}

/** True when the index holds a local, not yet pushed move of this tag or stage. */
export function hasUnpushedRefMove(db: Database, model: string, kind: 'tag' | 'stage', name: string): boolean {
  return unpushedRefMoves(db, model, kind).has(`${model}\0${name}`);
}

/** Marks events as published (1) or superseded by the remote (2: never published). */
export function markEvents(db: Database, ids: Iterable<string>, state: 1 | 2): void {
  const mark = db.prepare('UPDATE events SET pushed = ? WHERE id = ?');
  for (const id of ids) mark.run(state, id);
}
