import type { LimitFunction } from 'p-limit';
import { keys } from '../core/remote-layout.js';
import { isPreconditionFailed } from '../remote/remote.js';
import { writeTransaction, type Database } from '../store/index-db.js';
import { remoteVersionNumber } from '../store/remote-tracking.js';
import { markEventsOnRemote, type UnpushedEvent } from '../store/unpushed-events.js';
import type { StoreSession } from './remote-session.js';

/**
 * The events that may be published to the session's remote now: those whose version is
 * there (an event naming a version the remote lacks waits, so no reader sees a reference
 * to something absent).
 */
export function publishable(db: Database, session: { remoteId: string }, events: readonly UnpushedEvent[]): UnpushedEvent[] {
  return events.filter(({ event: e }) => e.version === null || remoteVersionNumber(db, session.remoteId, e.version) !== undefined);
}

/**
 * Publishes events under models/<name>/events/ (create-only: an event already there is
 * fine) and records them as on this remote. Runs last in the write order (docs/design.md
 * §7): every ref they mention is already on the remote.
 */
export async function publishEvents(db: Database, session: StoreSession, events: readonly UnpushedEvent[], limit: LimitFunction): Promise<void> {
  await Promise.all(
    events.map(({ event: e, payload }) =>
      limit(async () => {
        try {
          await session.remote.put(keys.event(e.model as string, e.at, e.id), Buffer.from(payload), eventPutOptions(session));
        } catch (err) {
          if (!isPreconditionFailed(err)) throw err;
        }
      }),
    ),
  );
  if (events.length) writeTransaction(db, () => markEventsOnRemote(db, session.remoteId, events.map((u) => u.event.id)));
}

/**
 * How an event is written: create-only, and under Object Lock until now + the remote's
 * `events_retention` when its settings ask for a write-once trail (docs/design.md §16).
 */
export function eventPutOptions(session: StoreSession): { condition: { ifAbsent: true }; retainUntil?: Date } {
  const ms = session.eventsRetentionMs;
  return ms ? { condition: { ifAbsent: true }, retainUntil: new Date(Date.now() + ms) } : { condition: { ifAbsent: true } };
}
