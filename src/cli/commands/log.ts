import type { Command } from 'commander';
import type { LogResult } from '../../api/log.js';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { remoteTargetOf, withPlainHttpOption, withReadRemoteOptions, type RemoteFlags } from '../remote-options.js';
import { formatTime, table } from '../format.js';

/** `modelctl log <model>`: versions newest first. */
export function registerLog(program: Command): Command {
  return withPlainHttpOption(withReadRemoteOptions(program.command('log').description('list versions of a model, newest first').argument('<model>', 'model name').option('-n, --max-count <n>', 'show at most n versions')))
    .addHelpText('after', '\nExamples:\n  modelctl log fraud\n  modelctl log fraud -n 5 --json\n  modelctl log fraud --remote s3://ml-registry/team   # no repository needed\n  modelctl log fraud --remote oci://ghcr.io/acme/models')
    .action(
      action<{ maxCount?: string } & RemoteFlags>(async (ctx, opts, model: string) => {
        let limit: number | undefined;
        if (opts.maxCount !== undefined) {
          limit = Number(opts.maxCount);
          if (!Number.isInteger(limit) || limit < 1) throw new UsageError('INVALID_COUNT', '-n needs a whole number ≥ 1');
        }
        const { log } = await import('../../api/log.js');
        const result = await log({ cwd: ctx.cwd, model, limit, ...remoteTargetOf(opts) });
        ctx.out.result(result, (r: LogResult) => {
          const c = ctx.out.color;
          const now = new Date();
          const rows = r.versions.map((v) => {
            const refs = [...v.stages.map((s) => c.green(s)), ...v.tags.map((t) => c.yellow(t)), ...(v.archived ? [c.dim('archived')] : [])];
            const metrics = Object.entries(v.metrics)
              .slice(0, 3)
              .map(([k, n]) => `${k}=${Number.isInteger(n) ? n : Number(n.toPrecision(4))}`)
              .join(' ');
            return [c.bold(`v${v.number}`), c.dim(v.shortId), formatTime(v.createdAt, now), v.author, refs.length ? `(${refs.join(', ')})` : '', v.message, metrics];
          });
          return rows.length ? table(rows) : `${r.model} has no versions`;
        });
      }),
    );
}
