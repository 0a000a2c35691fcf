import { IntegrityError } from '../errors.js';
import { assertModelName, assertStageName } from '../core/names.js';
import { parseSince } from '../core/time-filter.js';
import { readChainHead, verifyEventChain, type ChainHead } from '../store/events-table.js';
import { listEvents, type EventRecord } from '../store/history-queries.js';
import { requireModel } from '../store/resolve-ref.js';
import { withRepository, type CommonOptions } from './repository.js';

export interface HistoryOptions extends CommonOptions {
  model?: string;
  /** Only stage moves (promote, rollback) of this stage. */
  stage?: string;
  /** A date, a date-time or an age (`7d`); see core/time-filter.ts. */
  since?: string;
  /** Check the whole hash chain first; a break → IntegrityError (exit 6). */
  verify?: boolean;
}

export interface HistoryResult {
  /** Matching events, oldest first. */
  events: EventRecord[];
  /** True when --verify checked the whole chain and it holds; null when not asked. */
  verified: boolean | null;
  /** The recorded chain head (hash and count of all events). */
  head: ChainHead | null;
}

/**
 * The audit events, oldest first, filtered by model, stage and time. With `verify`, the
 * whole local chain is checked before anything is listed (filters do not narrow the
 * check): a broken, edited, reordered or deleted event → IntegrityError (6) naming the
 * first bad event in `data` (position, seq, id, reason).
 */
export async function history(opts: HistoryOptions = {}): Promise<HistoryResult> {
  if (opts.model !== undefined) assertModelName(opts.model);
  if (opts.stage !== undefined) assertStageName(opts.stage);
  const since = opts.since !== undefined ? parseSince(opts.since) : undefined;
  return withRepository(opts, (repo) => {
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
    let events = listEvents(db, { model: opts.model, since });
    if (opts.stage !== undefined) events = events.filter((e) => e.data.stage === opts.stage);
    return { events, verified, head: readChainHead(db) };
  });
}
