import type { Command } from 'commander';
import type { FetchResult } from '../../api/fetch.js';
import { action } from '../action.js';
import { parseJobs } from './push.js';

/** `modelctl fetch [model]`. */
export function registerFetch(program: Command): Command {
  return program
    .command('fetch')
    .description("bring the remote's versions, tags, stages and events into the index (no file bytes)")
    .argument('[model]', 'one model (default: all)')
    .option('-r, --remote <name|url>', 'remote (default: the default remote)')
    .option('-j, --jobs <n>', 'requests in flight (default 8)')
    .addHelpText('after', '\nExamples:\n  modelctl fetch\n  modelctl fetch fraud --remote origin')
    .action(
      action<{ remote?: string; jobs?: string }>(async (ctx, opts, model?: string) => {
        const { fetch } = await import('../../api/fetch.js');
        const result = await fetch({ cwd: ctx.cwd, model, remote: opts.remote, jobs: parseJobs(opts.jobs) });
        ctx.out.warnAll(result);
        ctx.out.result(result, (r: FetchResult) => {
          if (r.models.length === 0) return `Nothing on ${r.remote}`;
          return r.models
            .map((m) => {
              const parts = [`${m.newVersions.length} new version${m.newVersions.length === 1 ? '' : 's'}`, `${m.tags.length} tag change${m.tags.length === 1 ? '' : 's'}`, `${m.stages.length} stage move${m.stages.length === 1 ? '' : 's'}`, `${m.events} events`];
              const renum = m.renumbered.map((x) => `\n  renumbered local v${x.from} → v${x.to}`).join('');
              return `${m.model}: ${parts.join(', ')}${renum}`;
            })
            .join('\n');
        });
      }),
    );
}
