import { IntegrityError, UsageError } from '../errors.js';
import { closest } from '../core/refs.js';
import { assertModelName, assertStageName } from '../core/names.js';
import { parseSince } from '../core/time-filter.js';
import { readChainHead, verifyEventChain, type ChainHead } from '../store/events-table.js';
import { listEvents, unrecordedStageMoves, type EventRecord } from '../store/history-queries.js';
import type { EventAudit, EventDifference } from '../sync/event-audit.js';
import type { RemoteTarget } from '../sync/remote-session.js';
import { withReadRepository } from './remote-read.js';
import { requireModel } from '../store/resolve-ref.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';

export interface HistoryOptions extends CommonOptions, RemoteTarget {
  model?: string;
  /** Only stage moves (promote, rollback) of this stage. */
  stage?: string;
  /** A date, a date-time or an age (`7d`); see core/time-filter.ts. */
  since?: string;
  /** Check the whole hash chain first; a break → IntegrityError (exit 6). */
  verify?: boolean;
  /**
   * With `verify`: also compare this remote's copies of the events with the local ones and
   * check every stage move against its stage documents (sync/event-audit.ts). Without it:
   * list that remote's events instead of the local ones (read-only, no repository needed).
   */
  remote?: string;
}

/** An event as history lists it. */
export type HistoryEvent = EventRecord & {
  /**
   * True on a promote or rollback that no recorded stage move carries: the stage
   * documents never vouched for it (planted in a remote's events/), or it came in a bundle,
   * which carries events but no stages.
   */
  unvouched?: true;
};

export interface HistoryResult {
  /** Matching events, oldest first. */
  events: HistoryEvent[];
  /** Stage moves no recorded move carries (see HistoryEvent.unvouched), of the model or all. */
  unvouchedMoves: ReturnType<typeof unrecordedStageMoves>;
  /** With `remote`: how the remote's events differ (every difference); null when not asked. */
  remoteAudit: EventAudit | null;
  /** True when --verify checked the whole chain and it holds; null when not asked. */
  verified: boolean | null;
  /** The recorded chain head (hash and count of all events). */
  head: ChainHead | null;
}

/**
 * The audit events, oldest first, filtered by model, stage and time. With `verify`, the
 * whole local chain is checked before anything is listed (filters do not narrow the
 * check): a broken, edited, reordered or deleted event → IntegrityError (6) naming the
 * first bad event in `data` (position, seq, id, reason). With `remote` alone, the remote's
 * events are listed (fetched into a temporary store, each checked against its id).
 */
export async function history(opts: HistoryOptions = {}): Promise<HistoryResult> {
  if (opts.model !== undefined) assertModelName(opts.model);
  if (opts.stage !== undefined) assertStageName(opts.stage);
  const since = opts.since !== undefined ? parseSince(opts.since) : undefined;
  const read = async (repo: Repository): Promise<HistoryResult> => {
    const { db } = repo;
    if (opts.model !== undefined) requireModel(db, opts.model);
    let verified: boolean | null = null;
    if (opts.verify) {
      const bad = verifyEventChain(db);
      if (bad) {
        throw new IntegrityError('AUDIT_CHAIN_BROKEN', `audit chain broken: ${bad.message}`, {
          hint: 'the local index was modified outside modelctl; compare with a remote (`modelctl fetch`) or restore index.db from a backup',
          data: { firstBad: bad },
        });
      }
      verified = true;
    }
    let unvouchedMoves = unrecordedStageMoves(db, opts.model);
    const flagged = new Set(unvouchedMoves.map((m) => m.id));
    let events: HistoryEvent[] = listEvents(db, { model: opts.model, since }).map((e) => (flagged.has(e.id) ? { ...e, unvouched: true as const } : e));
    if (opts.stage !== undefined) {
      const stage = opts.stage;
      events = events.filter((e) => e.data.stage === stage);
      // A typo'd stage (--stage prod) listed "No events", as if nothing had ever moved it.
      if (events.length === 0 && !repo.settings.stages.includes(stage) && !listEvents(db, { model: opts.model }).some((e) => e.data.stage === stage)) {
        const near = closest(stage, repo.settings.stages, 1);
        throw new UsageError('UNKNOWN_STAGE', `unknown stage '${stage}'${near.length ? ` — did you mean '${near[0]}'?` : ''} (configured stages: ${repo.settings.stages.join(', ')})`, {
          hint: 'stages are listed, in order, under "stages" in modelctl.json',
          data: { stage, stages: [...repo.settings.stages] },
        });
      }
    }
    // The warnings are about the events listed, not those the filters left out (--verify
    // reports every one: it checks the whole chain whatever the filters).
    if (!opts.verify && (opts.stage !== undefined || since !== undefined)) {
      const listed = new Set(events.map((e) => e.id));
      unvouchedMoves = unvouchedMoves.filter((m) => listed.has(m.id));
    }
    const remoteAudit = opts.verify && opts.remote !== undefined ? await auditRemote(repo, opts, opts.model) : null;
    return { events, verified, head: readChainHead(db), unvouchedMoves, remoteAudit };
  };
  return opts.remote !== undefined && !opts.verify ? withReadRepository(opts, opts.model, read) : withRepository(opts, read);
}

/**
 * The remote audit of `history --verify --remote`. The sync layer (and with it the remote
 * documents' validator) is loaded here only: plain `history` reads nothing untrusted and
 * starts without it (docs/design.md §1, Build).
 */
async function auditRemote(repo: Repository, target: RemoteTarget, model: string | undefined): Promise<EventAudit> {
  const [{ auditRemoteEvents }, { storeSessionOf, withRemoteSession }] = await Promise.all([import('../sync/event-audit.js'), import('../sync/remote-session.js')]);
  const { remote, endpoint, region } = target;
  return withRemoteSession(repo, { remote, endpoint, region }, { create: false }, (session) => auditRemoteEvents(repo, storeSessionOf(session, '`history --remote`'), model));
}

/** The differences of a remote audit that are errors: all but events merely not fetched yet. */
export function remoteAuditProblems(audit: EventAudit): EventDifference[] {
  return audit.differences.filter((d) => d.kind !== 'only-on-remote');
}

/** Throws IntegrityError (exit 6) listing every difference when the remote audit found any that matters. */
export function assertRemoteAudit(result: HistoryResult): void {
  if (!result.remoteAudit) return;
  const bad = remoteAuditProblems(result.remoteAudit);
  if (bad.length === 0) return;
  throw new IntegrityError('AUDIT_REMOTE_MISMATCH', `the events on ${result.remoteAudit.remote} disagree with this repository or its stage documents: ${bad.length} difference${bad.length === 1 ? '' : 's'} (${[...new Set(bad.map((d) => d.kind))].join(', ')})`, {
    hint: 'someone with write access to the remote changed its events; compare the differences listed, and restore them from a clone that still holds them (`modelctl push`)',
    data: { differences: bad },
  });
}
