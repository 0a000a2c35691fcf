import type { LimitFunction } from 'p-limit';
import { keys } from '../core/remote-layout.js';
import type { Remote } from '../remote/remote.js';
import { writeTransaction, type Database } from '../store/index-db.js';
import { markEvents, type UnpushedEvent } from '../store/unpushed-events.js';

/**
 * Publishes events under models/<name>/events/ (create-only: an event already there is
 * fine) and marks them pushed. Runs last in the write order: every ref they mention is
 * already on the remote.
 */
export async function publishEvents(db: Database, remote: Remote, events: readonly UnpushedEvent[], limit: LimitFunction): Promise<void> {
  await Promise.all(
    events.map(({ event: e, payload }) =>
      limit(async () => {
        try {
          await remote.put(keys.event(e.model as string, e.at, e.id), Buffer.from(payload), { condition: { ifAbsent: true } });
        } catch (err) {
          if ((err as { code?: string }).code !== 'PRECONDITION_FAILED') throw err;
        }
      }),
    ),
  );
  if (events.length) writeTransaction(db, () => markEvents(db, events.map((u) => u.event.id), 1));
}
