import type { Command } from 'commander';
import type { RunResult } from '../../api/run.js';
import { redactCommandLine } from '../../core/redact.js';
import { action } from '../action.js';
import { formatBytes, formatDuration } from '../format.js';
import { reportHooks } from '../hook-report.js';
import { reportLock } from '../lock-report.js';

interface RunFlags {
  model?: string;
  message?: string;
  log?: boolean | string;
  lock?: boolean;
}

/** `modelctl run [--model m] [-m msg] [--log [file]] [--lock] -- <command…>`: train, then commit the outputs with the run's lineage. */
export function registerRun(program: Command): Command {
  return program
    .command('run')
    .description("run a training command; when it exits 0, commit the model's declared outputs with the run in the lineage")
    .argument('<command...>', 'the command and its arguments, after `--` (run without a shell)')
    .option('--model <name>', 'the model whose outputs are committed (default: the only one in modelctl.json)')
    .option('-m, --message <msg>', 'what this version is')
    .option('--log [file]', "store the command's combined output as a file of the version (default logs/<model>.log)")
    .option('--lock', 'record the new version in modelctl.lock (default: the lock setting)')
    .addHelpText(
      'after',
      `
The command's stdout and stderr pass through (with --json its stdout goes to stderr). A failing
command commits nothing and modelctl exits with its exit code; Ctrl-C is passed to the command,
then modelctl exits 130 with nothing committed.

Examples:
  modelctl run -- python train.py --epochs 10
  modelctl run --model fraud -m "lr sweep" --log --lock -- node train.js --lr 0.01
  modelctl run -- sh -c 'python prepare.py && python train.py'`,
    )
    .action(
      action<RunFlags>(async (ctx, opts, command: string[]) => {
        const { run } = await import('../../api/run.js');
        const result = await run({
          cwd: ctx.cwd,
          model: opts.model,
          command,
          message: opts.message,
          log: opts.log,
          lock: opts.lock,
          argv: redactCommandLine(ctx.argv),
          stdout: ctx.out.json ? 'stderr' : 'inherit',
        });
        reportHooks(ctx, result.hooks);
        reportLock(ctx, result.lock);
        ctx.out.result(result, (r: RunResult) => {
          const v = r.version;
          // A command that ends before the first sample was not measured: 0 B would be a wrong figure.
          const peak = r.run.peakMemory;
          const mem = peak ? (peak.samples > 0 && peak.bytes > 0 ? `, peak memory ${formatBytes(peak.bytes)}` : ', peak memory not measured (it ended before the first sample)') : '';
          const ran = `Ran '${r.run.command.join(' ')}' in ${formatDuration(r.run.durationMs)}${mem}`;
          const head = !r.created
            ? `Nothing to commit: ${v.ref} (${v.shortId}) has the same files and lineage`
            : `Committed ${v.ref} (${v.shortId}): ${v.fileCount} file${v.fileCount === 1 ? '' : 's'}, ${formatBytes(v.totalSize)}${r.run.log ? ` (log: ${r.run.log})` : ''}`;
          return `${ran}\n${head}`;
        });
      }),
    );
}
