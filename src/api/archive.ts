import { buildEvent } from '../core/events.js';
import { appendEvent } from '../store/events-table.js';
import { setArchived } from '../store/archived-flag.js';
import { getEventRecord, type EventRecord } from '../store/history-queries.js';
import { writeTransaction } from '../store/index-db.js';
import { getVersion } from '../store/version-records.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import { withRepository, type CommonOptions } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface ArchiveOptions extends CommonOptions {
  ref: string;
  reason?: string;
  argv?: string[];
}

/** What archive/unarchive did. The --json shape. */
export interface ArchiveResult {
  action: 'archive' | 'unarchive';
  /** False when the version already had that mark. */
  changed: boolean;
  version: VersionSummary;
  event: EventRecord | null;
}

/**
 * Marks a version retired: it still resolves, checks out and keeps its stages, but can
 * no longer be promoted or rolled back to (exit 5). Already archived → nothing changes.
 */
export async function archive(opts: ArchiveOptions): Promise<ArchiveResult> {
  return mark(opts, true);
}

/** Clears the archived mark so the version can be promoted again. */
export async function unarchive(opts: ArchiveOptions): Promise<ArchiveResult> {
  return mark(opts, false);
}

async function mark(opts: ArchiveOptions, archived: boolean): Promise<ArchiveResult> {
  return withRepository(opts, async (repo) => {
    const { db } = repo;
    const target = resolveIn(repo, opts.ref);
    const actor = await resolveActor(repo.root);
    const action = archived ? ('archive' as const) : ('unarchive' as const);
    const eventId = writeTransaction(db, () => {
      if (!setArchived(db, target.id, archived)) return null;
      const event = buildEvent({
        actor,
        host: hostName(),
        action,
        model: target.model,
        version: target.id,
        from: null,
        to: null,
        reason: opts.reason ?? null,
        argv: opts.argv ?? [],
        data: { number: target.number },
      });
      appendEvent(db, event);
      return event.id;
    });
    const row = getVersion(db, target.id) ?? target;
    return { action, changed: eventId !== null, version: summarizeVersion(db, row), event: eventId ? getEventRecord(db, eventId) : null };
  });
}
