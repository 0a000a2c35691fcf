import type { AuditEvent, EventAction } from '../core/events.js';
import type { Database } from './index-db.js';

/** An audit event as the local chain holds it: the event plus its place in the chain. */
export interface EventRecord extends AuditEvent {
  seq: number;
  /** sha256(prevHash ‖ canonical JSON of the event). */
  hash: string;
  prevHash: string;
  /** True once a remote has it. */
  pushed: boolean;
}

/** Filters for listEvents; every one optional. */
export interface EventFilter {
  model?: string;
  versionId?: string;
  /** ISO-8601 UTC instant: only events at or after it. */
  since?: string;
}

interface EventRow {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  model: string | null;
  version_id: string | null;
  payload: string;
  prev_hash: string;
  hash: string;
  pushed: number;
}

/**
 * Events oldest first (chain order). A payload that no longer parses (a damaged row) is
 * shown from its columns rather than hiding it; `history --verify` names it.
 */
export function listEvents(db: Database, filter: EventFilter = {}): EventRecord[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.model !== undefined) {
    where.push('model = ?');
    args.push(filter.model);
  }
  if (filter.versionId !== undefined) {
    where.push('version_id = ?');
    args.push(filter.versionId);
  }
  if (filter.since !== undefined) {
    where.push('at >= ?');
    args.push(filter.since);
  }
  const rows = db
    .prepare(`SELECT seq, id, at, actor, action, model, version_id, payload, prev_hash, hash, pushed FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`)
    .all(...args) as EventRow[];
  return rows.map(toRecord);
}

/** One event of the local chain by id, or null. */
export function getEventRecord(db: Database, id: string): EventRecord | null {
  const row = db.prepare('SELECT seq, id, at, actor, action, model, version_id, payload, prev_hash, hash, pushed FROM events WHERE id = ?').get(id) as EventRow | undefined;
  return row ? toRecord(row) : null;
}

function toRecord(r: EventRow): EventRecord {
  let e: Partial<AuditEvent> = {};
  try {
    const parsed = JSON.parse(r.payload) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) e = parsed as Partial<AuditEvent>;
  } catch {
    e = {};
  }
  return {
    seq: r.seq,
    id: r.id,
    at: r.at,
    actor: r.actor,
    host: typeof e.host === 'string' ? e.host : '',
    action: r.action as EventAction,
    model: r.model,
    version: r.version_id,
    from: e.from ?? null,
    to: e.to ?? null,
    reason: e.reason ?? null,
    argv: Array.isArray(e.argv) ? e.argv : [],
    data: e.data && typeof e.data === 'object' ? e.data : {},
    hash: r.hash,
    prevHash: r.prev_hash,
    pushed: r.pushed === 1,
  };
}

/** The promote and rollback events of one stage of a model (any origin, superseded ones excluded), oldest first. */
export function stageMoveEvents(db: Database, model: string, stage: string): { id: string; at: string; from: string | null; to: string | null }[] {
  const rows = db
    .prepare("SELECT id, at, payload FROM events WHERE model = ? AND action IN ('promote', 'rollback') AND pushed != 2 ORDER BY seq")
    .all(model) as { id: string; at: string; payload: string }[];
  const out: { id: string; at: string; from: string | null; to: string | null }[] = [];
  for (const r of rows) {
    const e = JSON.parse(r.payload) as { from?: string | null; to?: string | null; data?: { stage?: unknown } };
    if (e.data?.stage === stage) out.push({ id: r.id, at: r.at, from: e.from ?? null, to: e.to ?? null });
  }
  return out;
}

/**
 * Promote and rollback events (superseded ones excluded) that no recorded stage move
 * carries: moves the stage documents never vouched for (docs/design.md §8) — planted in
 * a remote's events/, or brought by a bundle, which carries events but no stages.
 */
export function unrecordedStageMoves(db: Database, model?: string): { id: string; seq: number; model: string; stage: string | null; from: string | null; to: string | null; actor: string }[] {
  const rows = db
    .prepare(
      `SELECT e.id, e.seq, e.model, e.actor, e.payload FROM events e
       WHERE e.action IN ('promote', 'rollback') AND e.pushed != 2${model !== undefined ? ' AND e.model = ?' : ''}
         AND NOT EXISTS (SELECT 1 FROM stage_history h WHERE h.event_id = e.id)
       ORDER BY e.seq`,
    )
    .all(...(model !== undefined ? [model] : [])) as { id: string; seq: number; model: string; actor: string; payload: string }[];
  return rows.map((r) => {
    const e = JSON.parse(r.payload) as { from?: string | null; to?: string | null; data?: { stage?: unknown } };
    return { id: r.id, seq: r.seq, model: r.model, actor: r.actor, stage: typeof e.data?.stage === 'string' ? e.data.stage : null, from: e.from ?? null, to: e.to ?? null };
  });
}

/** The events about one version (its `version` field), oldest first, as recorded. */
export function eventsOfVersion(db: Database, versionId: string): AuditEvent[] {
  return (db.prepare('SELECT payload FROM events WHERE version_id = ? ORDER BY seq').all(versionId) as { payload: string }[]).map((r) => JSON.parse(r.payload) as AuditEvent);
}

/** The stored payloads (the exact published bytes) of the events about one version, oldest first. */
export function eventPayloadsOfVersion(db: Database, versionId: string): { id: string; payload: string }[] {
  return db.prepare('SELECT id, payload FROM events WHERE version_id = ? ORDER BY seq').all(versionId) as { id: string; payload: string }[];
}
