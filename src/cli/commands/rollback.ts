import type { Command } from 'commander';
import { action } from '../action.js';
import { remoteTargetOf, withEndpointOptions } from '../remote-options.js';
import { stageConfirmer } from '../stage-confirm.js';
import { reportStageMove } from './promote.js';

interface RollbackFlags {
  stage: string;
  to?: string;
  reason?: string;
  yes?: boolean;
  dryRun?: boolean;
  push?: boolean;
  remote?: string;
  endpoint?: string;
  region?: string;
}

/** `modelctl rollback <model> --stage <s>`: put a stage back on its previous holder. */
export function registerRollback(program: Command): Command {
  return withEndpointOptions(
    program
      .command('rollback')
      .description('put a stage back on the version that held it before the current holder (or on --to)')
      .argument('<model>', 'model name')
      .requiredOption('--stage <stage>', 'the stage to roll back')
      .option('--to <ref>', 'the version to put the stage on instead of the previous holder')
      .option('--reason <text>', 'why (recorded in the audit event)')
      .option('-y, --yes', 'do not ask before moving the last stage')
      .option('--dry-run', 'show the target and the verdict; move nothing')
      .option('--push', 'act on the remote at once (compare-and-swap); on a conflict change nothing anywhere, exit 4')
      .option('-r, --remote <name|url>', 'remote for --push (default: the default remote)'),
  )
    .addHelpText(
      'after',
      `
Repeated rollbacks keep walking back: after promoting v1, v2, v3, two rollbacks give v2, then v1.
Exit codes: 0 done, 2 unknown stage, 3 stage empty or no earlier holder, 4 declined or stage moved
concurrently, 5 target archived or denied by policy/pre-promote hook.

Examples:
  modelctl rollback fraud --stage production --reason "latency regression"
  modelctl rollback fraud --stage production --to fraud@1.3.0 --yes`,
    )
    .action(
      action<RollbackFlags>(async (ctx, opts, model: string) => {
        const { rollback } = await import('../../api/rollback.js');
        const result = await rollback({
          push: opts.push,
          ...remoteTargetOf(opts),
          cwd: ctx.cwd,
          model,
          stage: opts.stage,
          to: opts.to,
          reason: opts.reason,
          dryRun: opts.dryRun,
          confirm: stageConfirmer(ctx, opts.yes),
          argv: ctx.argv,
        });
        await reportStageMove(ctx, result);
      }),
    );
}
