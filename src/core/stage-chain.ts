/**
 * Which stage-move events a stage document vouches for (docs/design.md §8). A stage
 * document names the version holding the stage and the event of the move that put it
 * there; that event's `from` is the version before, which some earlier move put there,
 * and so on back. Walking that chain back from the document's event is the only reading
 * of the events the stage documents support: a promote or rollback event that is not on
 * the chain of any stage document describes a move the remote never made — written into
 * `events/` by hand (its content id can be right) — and is flagged, never applied.
 * Without signatures a writer of the bucket can still forge a chain that agrees with the
 * documents it also wrote; what this proves is agreement, not authorship. Pure: no I/O.
 */

/** A promote or rollback event as the chain needs it. */
export interface StageMoveEvent {
  id: string;
  at: string;
  from: string | null;
  to: string | null;
}

/**
 * The moves leading to the stage document (`docEvent` put `docVersion` there), oldest
 * first, walking back from the document's event through `from` → `to` links. When two
 * moves could precede a step (a version held twice), the latest one not after the step is
 * taken; each event is used once. `known(e)` stops the walk at an event already accounted
 * for (recorded locally): it is not included. Empty when the document's event is not
 * among `moves` or does not put `docVersion` there.
 */
export function chainToStageDocument(
  moves: readonly StageMoveEvent[],
  docEvent: string | null,
  docVersion: string,
  known: (e: StageMoveEvent) => boolean = () => false,
): StageMoveEvent[] {
  const last = docEvent ? moves.find((e) => e.id === docEvent) : undefined;
  if (!last || last.to !== docVersion) return [];
  const used = new Set<string>([last.id]);
  const chain: StageMoveEvent[] = [];
  for (let step: StageMoveEvent | undefined = last; step && !known(step); ) {
    chain.unshift(step);
    const after: StageMoveEvent = step;
    if (after.from === null) break;
    const candidates = moves.filter((e) => !used.has(e.id) && e.to === after.from);
    const before = candidates.filter((e) => e.at <= after.at);
    const pool = before.length ? before : candidates;
    step = pool.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.id < b.id ? 1 : -1))[0];
    if (step) used.add(step.id);
  }
  return chain;
}

/**
 * The moves among `moves` that no stage document's chain vouches for: those a remote never
 * made (see the module comment). `docs` are the stage documents of the same stage (one, on
 * a remote; or what the local index recorded).
 */
export function unvouchedMoves(moves: readonly StageMoveEvent[], docs: readonly { event: string | null; version: string }[]): StageMoveEvent[] {
  const vouched = new Set<string>();
  for (const d of docs) for (const e of chainToStageDocument(moves, d.event, d.version)) vouched.add(e.id);
  return moves.filter((e) => !vouched.has(e.id));
}
