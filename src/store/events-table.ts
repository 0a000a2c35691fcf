import { CHAIN_START, chainHash, eventContentId, eventPayload, type AuditEvent } from '../core/events.js';
import type { Database } from './index-db.js';

/** True when the local chain holds an event with this id. */
export function hasEvent(db: Database, id: string): boolean {
  return !!db.prepare('SELECT 1 FROM events WHERE id = ?').get(id);
}

/**
 * Appends an event to the local chain. Must run inside the caller's write transaction,
 * so the event and the change it records land together or not at all. An event whose id
 * is already present (fetched twice) is skipped. Returns whether it was inserted.
 */
export function appendEvent(db: Database, e: AuditEvent, opts: { pushed?: boolean } = {}): boolean {
  if (hasEvent(db, e.id)) return false;
  const head = db.prepare('SELECT hash FROM events ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
  const prev = head?.hash ?? CHAIN_START;
  const payload = eventPayload(e);
  const hash = chainHash(prev, payload);
  db.prepare(
    'INSERT INTO events (id, at, actor, action, model, version_id, payload, prev_hash, hash, pushed) VALUES (?,?,?,?,?,?,?,?,?,?)',
  ).run(e.id, e.at, e.actor, e.action, e.model, e.version, payload, prev, hash, opts.pushed ? 1 : 0);
  // The head is kept apart from the rows so deleting the newest event is detectable too.
  const meta = db.prepare("SELECT value FROM meta WHERE key = 'events_head'").get() as { value: string } | undefined;
  const count = (meta ? (JSON.parse(meta.value) as { count: number }).count : 0) + 1;
  db.prepare("INSERT INTO meta (key, value) VALUES ('events_head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
    JSON.stringify({ hash, count }),
  );
  return true;
}

/** Why the audit chain failed verification, and where (the first bad event). */
export interface ChainBreak {
  /** 1-based position in the chain (seq order) of the first bad event. */
  position: number;
  /** seq and id of the first bad row; null when the bad part is missing rows at the end. */
  seq: number | null;
  id: string | null;
  reason: 'broken-link' | 'hash-mismatch' | 'payload-mismatch' | 'missing-tail' | 'head-mismatch';
  message: string;
}

/** The chain's head as recorded apart from the rows (meta 'events_head'). */
export interface ChainHead {
  hash: string;
  count: number;
}

/** The recorded chain head, or null before the first event. */
export function readChainHead(db: Database): ChainHead | null {
  const meta = db.prepare("SELECT value FROM meta WHERE key = 'events_head'").get() as { value: string } | undefined;
  if (!meta) return null;
  try {
    const v = JSON.parse(meta.value) as Partial<ChainHead>;
    if (typeof v.hash === 'string' && typeof v.count === 'number') return { hash: v.hash, count: v.count };
  } catch {
    /* fall through: a damaged head is reported by verifyEventChain */
  }
  return { hash: '', count: -1 };
}

/**
 * Walks the whole local audit chain in seq order and returns the first bad event, or null
 * when every link holds. Detects: an edited payload or hash (the row's hash is not
 * sha256(prev_hash ‖ payload)); an edited column (id, at, actor, action, model, version_id
 * disagree with the payload, or the id is not the payload's content id); a deleted,
 * inserted or reordered row (prev_hash is not the stored hash of the row before); deleted
 * rows at the end (the head kept in meta names a later hash and count). Someone able to
 * rewrite every row AND the head consistently is out of reach of a local chain: pushing
 * events to a remote is what makes history tamper-evident across copies.
 */
export function verifyEventChain(db: Database): ChainBreak | null {
  type Row = { seq: number; id: string; at: string; actor: string; action: string; model: string | null; version_id: string | null; payload: string; prev_hash: string; hash: string };
  let expectedPrev = CHAIN_START;
  let position = 0;
  let last: Row | null = null;
  for (const row of db.prepare('SELECT seq, id, at, actor, action, model, version_id, payload, prev_hash, hash FROM events ORDER BY seq').iterate() as Iterable<Row>) {
    position++;
    const where = `event #${position} (seq ${row.seq}, id ${row.id.slice(0, 12)})`;
    if (row.prev_hash !== expectedPrev) {
      return {
        position,
        seq: row.seq,
        id: row.id,
        reason: 'broken-link',
        message: `${where} does not link to the event before it: an event was deleted, inserted or reordered`,
      };
    }
    if (chainHash(row.prev_hash, row.payload) !== row.hash) {
      return { position, seq: row.seq, id: row.id, reason: 'hash-mismatch', message: `${where}: its hash does not match its content: the event was edited` };
    }
    const mismatch = payloadMismatch(row);
    if (mismatch) {
      return { position, seq: row.seq, id: row.id, reason: 'payload-mismatch', message: `${where}: ${mismatch}: the event was edited` };
    }
    expectedPrev = row.hash;
    last = row;
  }
  const head = readChainHead(db);
  if (head === null) {
    if (last === null) return null;
    return { position: 1, seq: null, id: null, reason: 'head-mismatch', message: 'the chain head record is missing while events exist: the index was edited' };
  }
  if (head.count === position && head.hash === (last?.hash ?? CHAIN_START)) return null;
  if (head.count > position) {
    return {
      position: position + 1,
      seq: null,
      id: null,
      reason: 'missing-tail',
      message: `the chain ends after ${position} event(s)${last ? ` (seq ${last.seq})` : ''} but ${head.count} were recorded: the newest event(s) were deleted`,
    };
  }
  return {
    position: Math.max(position, 1),
    seq: last?.seq ?? null,
    id: last?.id ?? null,
    reason: 'head-mismatch',
    message: `the newest event${last ? ` (seq ${last.seq}, id ${last.id.slice(0, 12)})` : ''} does not match the recorded chain head: events were edited or appended outside modelctl`,
  };
}

/** Why a row's columns or id disagree with its payload, or null when they agree. */
function payloadMismatch(row: { id: string; at: string; actor: string; action: string; model: string | null; version_id: string | null; payload: string }): string | null {
  let e: AuditEvent;
  try {
    e = JSON.parse(row.payload) as AuditEvent;
  } catch {
    return 'its payload is not JSON';
  }
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return 'its payload is not an event';
  try {
    if (eventPayload(e) !== row.payload) return 'its payload is not canonical JSON';
  } catch {
    return 'its payload is not canonical JSON';
  }
  const columns: [string, unknown, unknown][] = [
    ['id', row.id, e.id],
    ['at', row.at, e.at],
    ['actor', row.actor, e.actor],
    ['action', row.action, e.action],
    ['model', row.model, e.model ?? null],
    ['version', row.version_id, e.version ?? null],
  ];
  for (const [name, column, inPayload] of columns) {
    if (column !== inPayload) return `its ${name} column disagrees with its payload`;
  }
  if (eventContentId(e) !== e.id) return 'its id is not the hash of its content';
  return null;
}
