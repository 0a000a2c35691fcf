import type { Command } from 'commander';
import type { FetchResult } from '../../api/fetch.js';
import { action } from '../action.js';
import { countOf } from '../format.js';
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
          // Only models that changed get a line; the rest are one summary line.
          const changed = r.models.filter((m) => m.newVersions.length || m.tags.length || m.stages.length || m.events || m.renumbered.length);
          const lines = changed.map((m) => {
            const parts = [
              m.newVersions.length && countOf(m.newVersions.length, 'new version'),
              m.tags.length && countOf(m.tags.length, 'tag change'),
              m.stages.length && countOf(m.stages.length, 'stage move'),
              m.events && countOf(m.events, 'event'),
            ].filter(Boolean);
            const renum = m.renumbered.map((x) => `\n  renumbered local v${x.from} → v${x.to}`).join('');
            return `${m.model}: ${parts.length ? parts.join(', ') : 'renumbered'}${renum}`;
          });
          const quiet = r.models.length - changed.length;
          lines.push(changed.length === 0 ? `Up to date with ${r.remote}: nothing new for ${countOf(r.models.length, 'model')}` : quiet ? `${countOf(quiet, 'other model')} up to date` : `Fetched from ${r.remote}`);
          return lines.join('\n');
        });
      }),
    );
}
