import type { LockUpdate } from './lock-update.js';
import { lockWanted } from './lock-wanted.js';
import { withRepository, type CommonOptions } from './repository.js';
import type { RemoteTarget } from '../sync/remote-session.js';
import { assertKnownStage, performPushedStageMove, performStageMove, type ConfirmStageMove, type StageMoveResult } from './stage-move.js';
import { resolveIn } from '../workspace/resolve-in.js';

export type { ConfirmStageMove, StageMoveQuestion, StageMoveResult } from './stage-move.js';
export { policyDenial } from './stage-move.js';

export interface PromoteOptions extends CommonOptions, RemoteTarget {
  /** The version to promote (docs/design.md §2 reference). */
  ref: string;
  /** The stage to move; must be one of the configured stages. */
  to: string;
  reason?: string;
  /** Check the policy and report the verdict; move nothing, run no hooks. */
  dryRun?: boolean;
  /** Asked before moving the last configured stage (e.g. production); omit to never ask. */
  confirm?: ConfirmStageMove;
  /** Recorded in the audit event. */
  argv?: string[];
  /** Record the promoted version in modelctl.lock (default: the `lock` setting). */
  lock?: boolean;
  /**
   * Move the stage on the remote at once, compare-and-swap against what this repository
   * last fetched (docs/design.md §7): if anyone moved it since, nothing changes anywhere
   * (ConflictError, exit 4). Ignored with dryRun.
   */
  push?: boolean;
}

/**
 * Moves stage `to` of the reference's model to that version, after its policy allows
 * it. Unknown stage → UsageError (2); archived version or unmet policy → PolicyError (5)
 * listing every unmet rule; failed pre-promote hook → PolicyError (5). Promoting the
 * version that already holds the stage changes nothing and records nothing. With `push`
 * the remote's stage moves too, or neither does.
 */
export async function promote(opts: PromoteOptions): Promise<StageMoveResult & { lock?: LockUpdate | null }> {
  return withRepository(opts, async (repo) => {
    assertKnownStage(opts.to, repo.settings.stages);
    // modelctl.lock's reader and validator are loaded only when this move keeps the lock.
    const locks = !opts.dryRun && lockWanted(repo, opts.lock) ? await import('./lock-update.js') : null;
    locks?.assertLockReadable(repo, opts.lock);
    const target = resolveIn(repo, opts.ref);
    const plan = {
      action: 'promote' as const,
      stage: opts.to,
      stages: repo.settings.stages,
      target,
      rules: repo.settings.policies[opts.to],
      reason: opts.reason ?? null,
      argv: opts.argv ?? [],
      dryRun: !!opts.dryRun,
      confirm: opts.confirm,
    };
    const moved = opts.push && !opts.dryRun ? await performPushedStageMove(repo, plan, opts) : await performStageMove(repo, plan);
    return moved.dryRun ? moved : { ...moved, lock: locks ? locks.updateLock(repo, opts.lock, [moved.version.id]) : null };
  });
}

/** Throws UsageError (exit 2) unless `stage` is configured in the repository at opts.cwd. */
export async function checkStage(opts: CommonOptions & { stage: string }): Promise<void> {
  await withRepository(opts, (repo) => assertKnownStage(opts.stage, repo.settings.stages));
}
