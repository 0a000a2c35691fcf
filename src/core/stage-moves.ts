/**
 * The rollback rule, kept pure. A stage's history is read as a stack of arrivals:
 *
 * - a promotion pushes the new holder;
 * - a rollback pops the current holder and, when the holder below it is not the
 *   rollback's target (`rollback --to`), pushes the target.
 *
 * A rollback without `--to` therefore returns the stage to the version that held it
 * before the current holder arrived, and repeated rollbacks keep walking back
 * (C → B → A) instead of flipping between the last two holders. A version that was
 * rolled away from is never a rollback target again unless it is promoted again.
 */

/** One row of a stage's history, oldest first. */
export interface StageMove {
  /** The holder after the move (null: the stage was cleared). */
  versionId: string | null;
  /** The audit action that made the move; anything but 'rollback' counts as an arrival. */
  action: string | null;
}

/** The arrival stack after replaying `moves`, bottom first. */
export function replayStageStack(moves: readonly StageMove[]): string[] {
  const stack: string[] = [];
  for (const m of moves) {
    if (m.versionId === null) {
      stack.length = 0;
      continue;
    }
    if (m.action === 'rollback') {
      stack.pop();
      if (stack[stack.length - 1] !== m.versionId) stack.push(m.versionId);
    } else if (stack[stack.length - 1] !== m.versionId) {
      stack.push(m.versionId);
    }
  }
  return stack;
}

/**
 * The version a plain `rollback` moves the stage to, or null when nothing held it before
 * the current holder's arrival. `currentHolder` is authoritative: if the history does not
 * end with it (a partial history fetched from a remote), it is treated as the top.
 */
export function rollbackTarget(moves: readonly StageMove[], currentHolder: string): string | null {
  const stack = replayStageStack(moves);
  if (stack[stack.length - 1] !== currentHolder) stack.push(currentHolder);
  return stack.length >= 2 ? stack[stack.length - 2] : null;
}
