import type { AuditEvent, EventAction } from '../core/events.js';
import type { Database } from './index-db.js';

/**
 * Local events not yet published to a given remote, and the bookkeeping around them
 * (docs/design.md §7: published state is per remote). An event is on a remote once it was
 * published there or fetched from there (`remote_events`); `events.pushed` says it is on
 * some remote (1) or was superseded by a remote and is never published (2). A tag or stage
 * move is "local" to a remote exactly while its event is unpublished there: push publishes
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

/** The tag or stage an event moves, or null for other events. */
export function refMovedBy(e: AuditEvent): { kind: 'tag' | 'stage'; name: string } | null {
  for (const kind of ['tag', 'stage'] as const) {
    const name = e.data[kind];
    if (REF_ACTIONS[kind].includes(e.action) && typeof name === 'string') return { kind, name };
  }
  return null;
}

/** Events of the given models (or one model) not on `remoteId`, oldest first (superseded ones excluded). */
export function unpushedEvents(db: Database, remoteId: string, models: ReadonlySet<string> | string): UnpushedEvent[] {
  const sql = `SELECT payload, model FROM events e WHERE pushed != 2 AND model IS NOT NULL${typeof models === 'string' ? ' AND model = ?' : ''}
    AND NOT EXISTS (SELECT 1 FROM remote_events r WHERE r.remote = ? AND r.event_id = e.id) ORDER BY seq`;
  const rows = (typeof models === 'string' ? db.prepare(sql).all(models, remoteId) : db.prepare(sql).all(remoteId)) as { payload: string; model: string }[];
  return rows
    .filter((r) => typeof models === 'string' || models.has(r.model))
    .map((r) => ({ event: JSON.parse(r.payload) as AuditEvent, payload: r.payload }));
}

/** Moves of tags (or stages) not on `remoteId`, grouped by model and tag (or stage) name. */
export function unpushedRefMoves(db: Database, remoteId: string, models: ReadonlySet<string> | string, kind: 'tag' | 'stage'): Map<string, { model: string; name: string; events: AuditEvent[] }> {
  const out = new Map<string, { model: string; name: string; events: AuditEvent[] }>();
  for (const { event: e } of unpushedEvents(db, remoteId, models)) {
    const ref = refMovedBy(e);
    if (ref?.kind !== kind || e.model === null) continue;
    const k = `${e.model}\0${ref.name}`;
    const entry = out.get(k) ?? { model: e.model, name: ref.name, events: [] };
    entry.events.push(e);
    out.set(k, entry);
  }
  return out;
}

/** True when the index holds a move of this tag or stage not yet on `remoteId`. */
export function hasUnpushedRefMove(db: Database, remoteId: string, model: string, kind: 'tag' | 'stage', name: string): boolean {
  return unpushedRefMoves(db, remoteId, model, kind).has(`${model}\0${name}`);
}

/** Records events as on `remoteId` (published there, or fetched from there). Call inside a transaction. */
export function markEventsOnRemote(db: Database, remoteId: string, ids: Iterable<string>): void {
  const on = db.prepare('INSERT OR IGNORE INTO remote_events (remote, event_id) VALUES (?, ?)');
  const pushed = db.prepare('UPDATE events SET pushed = 1 WHERE id = ? AND pushed = 0');
  for (const id of ids) {
    on.run(remoteId, id);
    pushed.run(id);
  }
}

/** Marks local moves superseded by a remote: they are never published anywhere. Call inside a transaction. */
export function markEventsSuperseded(db: Database, ids: Iterable<string>): void {
  markEvents(db, ids, 2);
}

/** Sets events' flag: published to some remote (1) or superseded (2), as a journal recorded it. */
export function markEvents(db: Database, ids: Iterable<string>, state: 1 | 2): void {
  const mark = db.prepare('UPDATE events SET pushed = ? WHERE id = ?');
  for (const id of ids) mark.run(state, id);
}

/**
 * Records events as on every remote this index knows (holds versions or refs of): what a
 * rebuilt index can say of events its journal had as published, with no per-remote record.
 */
export function markEventsOnKnownRemotes(db: Database, ids: Iterable<string>): void {
  const remotes = (db.prepare('SELECT remote FROM remote_versions UNION SELECT remote FROM remote_refs').all() as { remote: string }[]).map((r) => r.remote);
  const on = db.prepare('INSERT OR IGNORE INTO remote_events (remote, event_id) VALUES (?, ?)');
  for (const id of ids) for (const r of remotes) on.run(r, id);
}

/** How many events of each model are not on `remoteId` (remote status). */
export function unpushedEventCounts(db: Database, remoteId: string): Map<string, number> {
  const rows = db
    .prepare(
      `SELECT model, COUNT(*) AS n FROM events e WHERE pushed != 2 AND model IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM remote_events r WHERE r.remote = ? AND r.event_id = e.id) GROUP BY model`,
    )
    .all(remoteId) as { model: string; n: number }[];
  return new Map(rows.map((r) => [r.model, r.n]));
}

/**
 * Ids of a model's events that a push from here can publish (all but superseded ones, and
 * but those naming a version this index does not hold: fetched with a version the remote
 * had removed, they wait for a version that never comes), oldest first.
 */
export function publishableEventIds(db: Database, model: string): string[] {
  const sql = `SELECT id FROM events e WHERE model = ? AND pushed != 2
    AND (version_id IS NULL OR EXISTS (SELECT 1 FROM versions v WHERE v.id = e.version_id)) ORDER BY seq`;
  return (db.prepare(sql).all(model) as { id: string }[]).map((r) => r.id);
}
