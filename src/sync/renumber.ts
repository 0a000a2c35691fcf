import { buildEvent } from '../core/events.js';
import { appendEvent } from '../store/events-table.js';
import type { Database } from '../store/index-db.js';
import { findModelId, getVersionByNumber, nextVersionNumber, renumberVersion } from '../store/version-records.js';
import { hostName } from '../workspace/identity.js';

/** One version given another number because a remote had given its number away. */
export interface Renumbered {
  model: string;
  id: string;
  from: number;
  to: number;
}

/** Who renumbers and why: recorded in each `renumber` event. */
export interface RenumberContext {
  actor: string;
  argv: readonly string[];
  /** The remote that decided, as displayed (the event's reason names it). */
  remote: string;
}

/**
 * The one renumbering path (docs/design.md §6, §7), used by push and fetch alike: gives
 * version `id` the number `n` the remote holds for it; a local version already holding `n`
 * moves to the model's next free number first (at least `bumpTo`: fetch passes the number
 * after the highest it brings, so a local version moves once, not once per number). Every
 * move is recorded as a `renumber` event in the same transaction (call inside one).
 * Returns the moves, the bumped one first.
 */
export function takeRemoteNumber(db: Database, model: string, id: string, n: number, ctx: RenumberContext, bumpTo = 0): Renumbered[] {
  const moved = renumberVersion(db, id, n, bumpTo).map((m) => ({ model, ...m }));
  for (const m of moved) recordRenumber(db, m, ctx);
  return moved;
}

/**
 * Frees number `n` of a model for a version about to be inserted from the remote: the local
 * (not yet pushed) version holding it moves to the next free number (at least `bumpTo`),
 * with its `renumber` event. Call inside a transaction.
 */
export function freeNumberForRemote(db: Database, model: string, n: number, ctx: RenumberContext, bumpTo = 0): Renumbered[] {
  const holder = getVersionByNumber(db, model, n);
  const modelId = findModelId(db, model);
  if (!holder || modelId === null) return [];
  return takeRemoteNumber(db, model, holder.id, Math.max(nextVersionNumber(db, modelId), bumpTo), ctx);
}

function recordRenumber(db: Database, m: Renumbered, ctx: RenumberContext): void {
  appendEvent(
    db,
    buildEvent({
      actor: ctx.actor,
      host: hostName(),
      action: 'renumber',
      model: m.model,
      version: m.id,
      from: `v${m.from}`,
      to: `v${m.to}`,
      reason: `the remote ${ctx.remote} had given v${m.from} to another version`,
      argv: [...ctx.argv],
      data: { from: m.from, to: m.to },
    }),
  );
}
