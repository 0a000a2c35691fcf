import type { AuditEvent } from '../core/events.js';
import { eventsAfterSeq, newestEventSeq } from '../store/browse-queries.js';
import { getVersion } from '../store/version-records.js';
import type { Repository } from './repository.js';

/** What a change is about, for listeners that only care about one kind. */
export type ChangeKind = 'stage' | 'tag' | 'version' | 'audit';

/** One change as the event feed announces it: the audit event with its version's number. */
export interface ChangeNotice {
  /** Position in the local chain (the feed's cursor). */
  seq: number;
  kind: ChangeKind;
  model: string | null;
  /** The stage moved (stage changes) or null. */
  stage: string | null;
  /** The tag set, moved or deleted (tag changes) or null. */
  tag: string | null;
  version: { id: string; number: number | null; ref: string | null } | null;
  event: AuditEvent;
}

const KIND_OF_ACTION: Record<string, ChangeKind> = {
  promote: 'stage',
  rollback: 'stage',
  tag: 'tag',
  'tag-move': 'tag',
  'tag-delete': 'tag',
  commit: 'version',
};

/** The seq of the newest event of an open repository (the cursor a new feed starts from). */
export function newestChangeSeq(repo: Repository): number {
  return newestEventSeq(repo.db);
}

/** Changes after `seq`, oldest first, at most `limit`. Rows whose payload does not parse are skipped (history --verify names them). */
export function changesAfter(repo: Repository, seq: number, limit = 1000): ChangeNotice[] {
  const out: ChangeNotice[] = [];
  for (const row of eventsAfterSeq(repo.db, seq, limit)) {
    let event: AuditEvent;
    try {
      event = JSON.parse(row.payload) as AuditEvent;
    } catch {
      continue;
    }
    const v = event.version ? getVersion(repo.db, event.version) : null;
    const data = event.data ?? {};
    out.push({
      seq: row.seq,
      kind: KIND_OF_ACTION[event.action] ?? 'audit',
      model: event.model,
      stage: typeof data.stage === 'string' ? data.stage : null,
      tag: typeof data.tag === 'string' ? data.tag : null,
      version: event.version ? { id: event.version, number: v?.number ?? null, ref: v ? `${v.model}@v${v.number}` : null } : null,
      event,
    });
  }
  return out;
}
