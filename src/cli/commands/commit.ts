import type { Command } from 'commander';
import type { CommitResult } from '../../api/commit.js';
import type { StageMoveResult } from '../../api/stage-move.js';
import { action, collect } from '../action.js';
import { formatBytes } from '../format.js';
import { reportHooks } from '../hook-report.js';
import { reportLock } from '../lock-report.js';

interface CommitFlags {
  message?: string;
  param?: string[];
  params?: string;
  metric?: string[];
  metrics?: string;
  data?: string[];
  parent?: string;
  tag?: string;
  stage?: string;
  yes?: boolean;
  lock?: boolean;
}

/** `modelctl commit <model> [paths…]`: snapshot files into a new version. */
export function registerCommit(program: Command): Command {
  return program
    .command('commit')
    .description('snapshot model files into a new version, with lineage')
    .argument('<model>', 'model name, e.g. fraud-detector or team/fraud-detector')
    .argument('[paths...]', 'files, folders and globs (default: the model\'s paths in modelctl.json)')
    .option('-m, --message <msg>', 'what this version is')
    .option('--param <k=v>', 'a hyperparameter (repeatable; numbers and booleans keep their type)', collect)
    .option('--params <file>', 'params from a JSON or YAML file (e.g. params.yaml)')
    .option('--metric <k=v>', 'a metric (repeatable)', collect)
    .option('--metrics <file>', 'metrics from a JSON or YAML file')
    .option('--data <path|uri>', 'a training-data input (repeatable; files and folders are hashed, URIs recorded)', collect)
    .option('--parent <ref>', 'the version this one was fine-tuned from')
    .option('--tag <tag>', 'tag the new version')
    .option('--stage <stage>', 'then promote it to this stage (policies and hooks apply; -m is the reason)')
    .option('-y, --yes', 'with --stage: do not ask before moving the last stage')
    .option('--lock', 'record the version in modelctl.lock (default: the lock setting)')
    .addHelpText(
      'after',
      `
Examples:
  modelctl commit fraud model/ -m "retrain on October data" --params params.yaml --metrics metrics.json --data data/train.csv
  modelctl commit fraud 'model/*.safetensors' --param lr=0.001 --metric accuracy=0.94 --tag 1.4.0`,
    )
    .action(
      action<CommitFlags>(async (ctx, opts, model: string, paths: string[]) => {
        const { commit } = await import('../../api/commit.js');
        // An unknown stage is a usage error before anything is written.
        if (opts.stage !== undefined) await (await import('../../api/promote.js')).checkStage({ cwd: ctx.cwd, stage: opts.stage });
        const committed = await commit({
          cwd: ctx.cwd,
          model,
          paths,
          message: opts.message,
          params: opts.param,
          paramsFile: opts.params,
          metrics: opts.metric,
          metricsFile: opts.metrics,
          data: opts.data,
          parent: opts.parent,
          tag: opts.tag,
          argv: ctx.argv,
          lock: opts.lock,
        });
        reportHooks(ctx, committed.hooks);
        reportLock(ctx, committed.lock);
        // --stage: promote what was committed (or the identical latest). A denied promotion
        // leaves the commit in place: the result is printed, then the error exits 5.
        let promotion: StageMoveResult | null = null;
        let promotionError: unknown = null;
        if (opts.stage !== undefined) {
          const { promote } = await import('../../api/promote.js');
          const { stageConfirmer } = await import('../stage-confirm.js');
          try {
            promotion = await promote({
              cwd: ctx.cwd,
              ref: `${committed.version.model}@${committed.version.id}`,
              to: opts.stage,
              reason: opts.message,
              confirm: stageConfirmer(ctx, opts.yes),
              argv: ctx.argv,
            });
            reportHooks(ctx, promotion.hooks);
          } catch (err) {
            promotionError = err;
          }
        }
        const result: CommitResult & { promotion: StageMoveResult | null } = { ...committed, promotion };
        ctx.out.result(result, (r) => {
          const v = r.version;
          const head = !r.created
            ? `Nothing to commit: ${v.ref} (${v.shortId}) has the same files and lineage`
            : `Committed ${v.ref} (${v.shortId}): ${v.fileCount} file${v.fileCount === 1 ? '' : 's'}, ${formatBytes(v.totalSize)}${v.tags.length ? ` [${v.tags.join(', ')}]` : ''}`;
          if (!r.promotion) return head;
          const p = r.promotion;
          return `${head}\n${p.changed ? `Promoted to '${p.stage}'${p.previous ? ` (was ${p.previous.ref})` : ''}` : `Already holds '${p.stage}'`}`;
        });
        if (promotionError) throw promotionError;
      }),
    );
}
