import { NotFoundError, UsageError } from '../errors.js';
import { assertModelName } from '../core/names.js';
import { parseRef } from '../core/refs.js';
import { rollbackTarget } from '../core/stage-moves.js';
import { requireModel } from '../store/resolve-ref.js';
import { getStageHolder, stageHistory } from '../store/stages-table.js';
import { getVersion, listVersions } from '../store/version-records.js';
import { withRepository, type CommonOptions } from './repository.js';
import type { RemoteTarget } from '../sync/remote-session.js';
import { assertKnownStage, performPushedStageMove, performStageMove, policyWouldAllow, preparePolicyChecks, type ConfirmStageMove, type StageMoveResult } from './stage-move.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface RollbackOptions extends CommonOptions, RemoteTarget {
  model: string;
  stage: string;
  /** Put the stage on this version instead of the previous holder. */
  to?: string;
  reason?: string;
  dryRun?: boolean;
  /** Asked before moving the last configured stage; omit to never ask. */
  confirm?: ConfirmStageMove;
  argv?: string[];
  /** Roll back on the remote at once, compare-and-swap against what this repository last fetched (as promote's `push`). */
  push?: boolean;
}

/**
 * Puts a stage back on the version that held it before the current holder arrived
 * (repeated rollbacks keep walking back; see core/stage-moves.ts), or on `to`. A version
 * that held the stage before passed its gate then, so only `require_reason` and the
 * archived check apply to it; a `--to` version that never held the stage meets the full
 * policy. Empty stage or no earlier holder → NotFoundError (3); the stage moved by
 * someone else meanwhile → ConflictError (4); denied → PolicyError (5).
 */
export async function rollback(opts: RollbackOptions): Promise<StageMoveResult> {
  assertModelName(opts.model);
  return withRepository(opts, async (repo) => {
    const { db, settings } = repo;
    assertKnownStage(opts.stage, settings.stages);
    const modelId = requireModel(db, opts.model);
    const holder = getStageHolder(db, modelId, opts.stage);
    if (!holder) {
      throw new NotFoundError('STAGE_EMPTY', `no version of ${opts.model} holds '${opts.stage}': nothing to roll back`, {
        // With a remote, a teammate may have filled it there (README: the same fix as for an
        // empty stage named in a reference).
        hint: `promote one with \`modelctl promote ${opts.model}@<ref> --to ${opts.stage}\`${settings.defaultRemote ? `, or run \`modelctl fetch ${opts.model}\` if a teammate did` : ''}`,
      });
    }
    const history = stageHistory(db, modelId, opts.stage);
    let targetId: string | null;
    if (opts.to !== undefined) {
      const parsed = parseRef(opts.to);
      if (parsed.model !== opts.model) {
        throw new UsageError('REF_OTHER_MODEL', `--to ${opts.to} names a version of '${parsed.model}', not of '${opts.model}'`, {
          hint: `use --to ${opts.model}@<selector>`,
        });
      }
      targetId = resolveIn(repo, parsed).id;
    } else {
      targetId = rollbackTarget(history, holder.versionId);
      if (targetId === null) {
        // Suggest only a version the stage's policy would take (a --to version meets it in full).
        await preparePolicyChecks(settings.policies[opts.stage]);
        const others = listVersions(db, opts.model, 200).filter((v) => v.id !== holder.versionId);
        const allowed = others.find((v) => policyWouldAllow(repo, opts.stage, v.id));
        const reason = settings.policies[opts.stage]?.require_reason ? ' --reason "…"' : '';
        throw new NotFoundError('NO_PREVIOUS_HOLDER', `'${opts.stage}' of ${opts.model} has no earlier holder to roll back to`, {
          hint: allowed
            ? `name the version with --to: \`modelctl rollback ${opts.model} --stage ${opts.stage} --to ${opts.model}@v${allowed.number}${reason}\``
            : others.length === 0
              ? `${opts.model}@v${getVersion(db, holder.versionId)?.number ?? '?'} is the only version of ${opts.model} here: commit another, then promote it${settings.defaultRemote ? `, or run \`modelctl fetch ${opts.model}\` if a teammate pushed one` : ''}`
              : `no other version of ${opts.model} meets the '${opts.stage}' policy; promote one that does (\`modelctl promote ${opts.model}@<ref> --to ${opts.stage} --dry-run\` shows what is unmet)`,
          data: { suggestion: allowed ? `${opts.model}@v${allowed.number}` : null },
        });
      }
    }
    const target = getVersion(db, targetId);
    if (!target) {
      throw new NotFoundError('UNKNOWN_VERSION', `version ${targetId.slice(0, 12)} from the stage history is not in the index`, {
        hint: `fetch it (\`modelctl fetch ${opts.model}\`) or name a version with --to`,
      });
    }
    const policy = settings.policies[opts.stage];
    const heldBefore = history.some((h) => h.versionId === target.id);
    const plan = {
      action: 'rollback' as const,
      stage: opts.stage,
      stages: settings.stages,
      target,
      rules: heldBefore ? { require_reason: policy?.require_reason } : policy,
      reason: opts.reason ?? null,
      argv: opts.argv ?? [],
      dryRun: !!opts.dryRun,
      confirm: opts.confirm,
      expectHolder: holder.versionId,
    };
    return opts.push && !opts.dryRun ? performPushedStageMove(repo, plan, opts) : performStageMove(repo, plan);
  });
}
