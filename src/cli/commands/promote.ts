import type { Command } from 'commander';
import type { StageMoveResult } from '../../api/stage-move.js';
import { action } from '../action.js';
import { remoteTargetOf, withEndpointOptions } from '../remote-options.js';
import { reportHooks } from '../hook-report.js';
import { reportLock } from '../lock-report.js';
import type { LockUpdate } from '../../api/lock-update.js';
import { stageConfirmer } from '../stage-confirm.js';
import type { CommandContext } from '../action.js';

interface PromoteFlags {
  to: string;
  reason?: string;
  yes?: boolean;
  dryRun?: boolean;
  push?: boolean;
  remote?: string;
  endpoint?: string;
  region?: string;
  lock?: boolean;
}

/** `modelctl promote <ref> --to <stage>`: move a stage to a version through its policy gate. */
export function registerPromote(program: Command): Command {
  return withEndpointOptions(
    program
      .command('promote')
      .description('move a stage (e.g. staging, production) to a version, after the stage policy allows it')
      .argument('<ref>', 'the version: <model>[@latest|@v<N>|@<stage>|@<tag>|@<id prefix>]')
      .requiredOption('--to <stage>', 'the stage to move (one of the configured stages)')
      .option('--reason <text>', 'why (recorded in the audit event; some policies require it)')
      .option('-y, --yes', 'do not ask before moving the last stage')
      .option('--dry-run', 'check the policy and print the verdict; move nothing (exit 5 when denied)')
      .option('--push', 'act on the remote at once (compare-and-swap); on a conflict change nothing anywhere, exit 4')
      .option('-r, --remote <name|url>', 'remote for --push (default: the default remote)')
      .option('--lock', 'record the promoted version in modelctl.lock (default: the lock setting)'),
  )
    .addHelpText(
      'after',
      `
Exit codes: 0 moved (or already there, or dry run allowed), 2 unknown stage, 3 unknown ref,
4 declined at the confirmation or stage moved concurrently, 5 denied by policy, archived, or pre-promote hook.

Examples:
  modelctl promote fraud@v3 --to staging
  modelctl promote fraud@staging --to production --reason "A/B test won" --yes
  modelctl promote fraud@v4 --to production --dry-run --json`,
    )
    .action(
      action<PromoteFlags>(async (ctx, opts, ref: string) => {
        const { promote } = await import('../../api/promote.js');
        const result = await promote({
          push: opts.push,
          ...remoteTargetOf(opts),
          cwd: ctx.cwd,
          ref,
          to: opts.to,
          reason: opts.reason,
          dryRun: opts.dryRun,
          confirm: stageConfirmer(ctx, opts.yes),
          argv: ctx.argv,
          lock: opts.lock,
        });
        reportLock(ctx, (result as { lock?: LockUpdate | null }).lock);
        await reportStageMove(ctx, result);
      }),
    );
}

/**
 * The end of promote and rollback: warnings, the result, and for a denied dry run the
 * policy error (exit 5) after the verdict was shown.
 */
export async function reportStageMove(ctx: CommandContext, result: StageMoveResult & { warnings?: readonly string[] }): Promise<void> {
  ctx.out.warnAll(result);
  renderStageMove(ctx, result);
  if (result.dryRun && !result.allowed) {
    const { policyDenial } = await import('../../api/promote.js');
    throw policyDenial({ ...result, number: result.version.number, versionId: result.version.id });
  }
}

/** Prints a promote or rollback result (shared with rollback and commit --stage). */
export function renderStageMove(ctx: CommandContext, result: StageMoveResult): void {
  reportHooks(ctx, result.hooks);
  ctx.out.result(result, (r) => describeStageMove(r));
}

/** One human paragraph for a promote or rollback result. */
export function describeStageMove(r: StageMoveResult): string {
  const to = `${r.version.ref} (${r.version.shortId})`;
  const from = r.previous ? `${r.previous.ref}` : 'nobody';
  const verb = r.action === 'rollback' ? 'roll back' : 'promote';
  if (r.dryRun) {
    const head = `Dry run: ${verb} '${r.stage}' of ${r.model} from ${from} to ${to}: ${r.allowed ? 'allowed' : `denied (${r.unmet.length} unmet rule${r.unmet.length === 1 ? '' : 's'})`}`;
    const rules = r.allowed ? [`  checked: ${r.checked.join(', ')}`] : r.unmet.map((u) => `  - ${u.rule}: ${u.message}`);
    return [head, ...rules].join('\n');
  }
  if (!r.changed) return `${r.version.ref} already holds '${r.stage}'; nothing to do`;
  return r.action === 'rollback'
    ? `Rolled back '${r.stage}' of ${r.model}: ${from} → ${to}`
    : `Promoted ${to} to '${r.stage}'${r.previous ? ` (was ${from})` : ''}`;
}
