import type { Command } from 'commander';
import type { CommitResult } from '../../api/commit.js';
import { action, collect } from '../action.js';
import { formatBytes } from '../format.js';
import { reportHooks } from '../hook-report.js';

interface CommitFlags {
  message?: string;
  param?: string[];
  params?: string;
  metric?: string[];
  metrics?: string;
  data?: string[];
  parent?: string;
  tag?: string;
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
        const result = await commit({
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
        });
        reportHooks(ctx, result.hooks);
        ctx.out.result(result, (r: CommitResult) => {
          const v = r.version;
          if (!r.created) return `Nothing to commit: ${v.ref} (${v.shortId}) has the same files and lineage`;
          return `Committed ${v.ref} (${v.shortId}): ${v.fileCount} file${v.fileCount === 1 ? '' : 's'}, ${formatBytes(v.totalSize)}${v.tags.length ? ` [${v.tags.join(', ')}]` : ''}`;
        });
      }),
    );
}
