import type { LimitFunction } from 'p-limit';
import { buildEvent, eventPayload, type AuditEvent } from '../core/events.js';
import { encodeDoc, keys, type RemovedDoc } from '../core/remote-layout.js';
import { isPreconditionFailed } from '../remote/remote.js';
import { appendEvent } from '../store/events-table.js';
import { writeTransaction } from '../store/index-db.js';
import { setRemoteRef } from '../store/remote-tracking.js';
import { markEventsOnRemote } from '../store/unpushed-events.js';
import { hostName } from '../workspace/identity.js';
import type { Repository } from '../workspace/repository.js';
import { eventPutOptions } from './publish-events.js';
import type { StoreSession } from './remote-session.js';

/**
 * Tombstones (docs/design.md §16): a removed version's `models/<name>/removed/<N>.json`,
 * create-only, and the `remove` event that records it. Shared by gc and rm.
 */

/** A version to remove, and why. */
export interface Removal {
  model: string;
  number: number;
  id: string;
  reason: string;
}

/** A tombstone written by this command, its event not yet published. */
export interface WrittenTombstone {
  model: string;
  key: string;
  doc: RemovedDoc;
  event: AuditEvent;
}

/** The `remove` event of `v` on this remote; `data` adds to its number and remote. */
function removeEvent(session: StoreSession, v: Removal, who: { actor: string; argv: readonly string[] }, data: Record<string, string> = {}): AuditEvent {
  return buildEvent({
    actor: who.actor,
    host: hostName(),
    action: 'remove',
    model: v.model,
    version: v.id,
    from: null,
    to: null,
    reason: v.reason,
    argv: [...who.argv],
    data: { number: v.number, remote: session.displayUrl, ...data },
  });
}

/** Writes the tombstone of `v` (create-only); null when it was removed already (another gc or rm: its event stands). */
export async function putTombstone(session: StoreSession, v: Removal, who: { actor: string; argv: readonly string[] }): Promise<WrittenTombstone | null> {
  const event = removeEvent(session, v, who);
  const doc: RemovedDoc = { version: v.id, number: v.number, reason: v.reason, actor: who.actor, at: event.at, event: event.id };
  const key = keys.removed(v.model, v.number);
  try {
    await session.remote.put(key, encodeDoc(doc), { condition: { ifAbsent: true } });
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    return null;
  }
  return { model: v.model, key, doc, event };
}

/** Publishes a written tombstone's `remove` event and records it here. */
export async function publishTombstone(repo: Repository, session: StoreSession, t: WrittenTombstone): Promise<void> {
  const { event } = t;
  await session.remote.put(keys.event(t.model, event.at, event.id), Buffer.from(eventPayload(event)), eventPutOptions(session)).catch((err: unknown) => {
    if (!isPreconditionFailed(err)) throw err;
  });
  writeTransaction(repo.db, () => {
    appendEvent(repo.db, event);
    markEventsOnRemote(repo.db, session.remoteId, [event.id]);
    setRemoteRef(repo.db, session.remoteId, t.key, { etag: null, value: t.doc });
  });
}

/** Writes a tombstone and its published `remove` event for each version. Returns the events of those this call removed. */
export async function writeTombstones(repo: Repository, session: StoreSession, versions: readonly Removal[], who: { actor: string; argv: readonly string[] }, limit: LimitFunction): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  await Promise.all(
    versions.map((v) =>
      limit(async () => {
        const written = await putTombstone(session, v, who);
        if (!written) return;
        await publishTombstone(repo, session, written);
        events.push(written.event);
      }),
    ),
  );
  return events;
}

/**
 * A tombstone whose `remove` event was never published: its writer (a gc or an rm) was killed
 * between the two writes, so the removal is on no record that fetch brings. The event it names
 * cannot be rebuilt (its id hashes the writer's time, host and command line), so this command
 * publishes a `remove` event of its own for the tombstone, naming the lost one in
 * `data.tombstoneEvent` (docs/design.md §16). Nothing is published when that event turned up
 * meanwhile (a slow writer, not a dead one).
 */
export async function recordUnrecordedTombstone(repo: Repository, session: StoreSession, model: string, doc: RemovedDoc, who: { actor: string; argv: readonly string[] }): Promise<AuditEvent | null> {
  if (await session.remote.head(keys.event(model, doc.at, doc.event))) return null;
  const event = removeEvent(session, { model, number: doc.number, id: doc.version, reason: doc.reason }, who, { tombstoneEvent: doc.event });
  await publishTombstone(repo, session, { model, key: keys.removed(model, doc.number), doc, event });
  return event;
}
