import type { Command } from 'commander';
import type { LsResult } from '../../api/ls.js';
import { action } from '../action.js';
import { remoteTargetOf, withPlainHttpOption, withReadRemoteOptions, type RemoteFlags } from '../remote-options.js';
import { formatBytes, formatTime, table } from '../format.js';
import { parameterCell } from '../tensor-format.js';

/** `modelctl ls`: models, latest versions and stage holders. */
export function registerLs(program: Command): Command {
  return withPlainHttpOption(withReadRemoteOptions(program.command('ls').description('list models with their latest version, stage holders and size')))
    .addHelpText('after', '\nExamples:\n  modelctl ls\n  modelctl ls --json\n  modelctl ls --remote s3://ml-registry/team --endpoint http://minio:9000   # no repository needed\n  modelctl ls --remote oci://ghcr.io/acme/models')
    .action(
      action<RemoteFlags>(async (ctx, opts) => {
        const { ls } = await import('../../api/ls.js');
        const result = await ls({ cwd: ctx.cwd, ...remoteTargetOf(opts) });
        ctx.out.result(result, (r: LsResult) => {
          if (r.models.length === 0) return 'No models yet: commit one with `modelctl commit <model> <paths>`';
          const stageCols = [...new Set([...r.stageOrder, ...r.models.flatMap((m) => Object.keys(m.stages))])];
          const now = new Date();
          // The parameter column only when some model has model files to count.
          const params = r.models.some((m) => m.latestParameters) ? ['PARAMS'] : [];
          const rows = [
            ['MODEL', 'LATEST', 'VERSIONS', 'SIZE', ...params, 'UPDATED', ...stageCols.map((s) => s.toUpperCase())],
            ...r.models.map((m) => [
              m.name,
              m.latest ? `v${m.latest.number}` : '-',
              String(m.versions),
              formatBytes(m.latestSize),
              ...(params.length ? [parameterCell(m.latestParameters)] : []),
              m.latest ? formatTime(m.latest.createdAt, now) : '-',
              ...stageCols.map((s) => (m.stages[s] ? `v${m.stages[s].number}` : '-')),
            ]),
          ];
          return table(rows);
        });
      }),
    );
}
