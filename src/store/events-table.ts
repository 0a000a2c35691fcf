import { CHAIN_START, chainHash, eventPayload, type AuditEvent } from '../core/events.js';
import type { Database } from './index-db.js';

/**
 * Appends an event to the local chain. Must run inside the caller's write transaction,
 * so the event and the change it records land together or not at all. An event whose id
 * is already present (fetched twice) is skipped. Returns whether it was inserted.
 */
export function appendEvent(db: Database, e: AuditEvent, opts: { pushed?: boolean } = {}): boolean {
  if (db.prepare('SELECT 1 FROM events WHERE id = ?').get(e.id)) return false;
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
