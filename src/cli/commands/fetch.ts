import type { Command } from 'commander';
import type { FetchResult } from '../../api/fetch.js';
import { IntegrityError } from '../../errors.js';
import { action } from '../action.js';
import { remoteTargetOf, withEndpointOptions, withPlainHttpOption } from '../remote-options.js';
import { countOf } from '../format.js';
import { parseJobs } from './push.js';

/** `modelctl fetch [model]`. */
export function registerFetch(program: Command): Command {
  return withPlainHttpOption(withEndpointOptions(
    program
      .command('fetch')
      .description("bring the remote's versions, tags, stages and events into the index (no file bytes)")
      .argument('[model]', 'one model (default: all)')
      .option('-r, --remote <name|url>', 'remote (default: the default remote)')
      .option('-j, --jobs <n>', 'requests in flight (default 8)'),
  ))
    .addHelpText('after', '\nExamples:\n  modelctl fetch\n  modelctl fetch fraud --remote origin\n  modelctl fetch fraud --remote oci://ghcr.io/acme/models\n  modelctl fetch --remote s3://ml-registry/team --endpoint http://minio:9000 --region us-east-1')
    .action(
      action<{ remote?: string; endpoint?: string; region?: string; jobs?: string; plainHttp?: boolean }>(async (ctx, opts, model?: string) => {
        const { fetch } = await import('../../api/fetch.js');
        const result = await fetch({ cwd: ctx.cwd, model, ...remoteTargetOf(opts), jobs: parseJobs(opts.jobs) });
        ctx.out.warnAll(result);
        // Everything valid was brought; documents that failed their checks end it in exit 6,
        // with the error of the first (and every rejected key in data) as the --json document.
        const [first] = result.rejected;
        if (!first) return ctx.out.result(result, renderFetch);
        if (!ctx.out.json) ctx.out.result(result, renderFetch);
        const keys = result.rejected.map((r) => r.key);
        throw new IntegrityError(first.code, `skipped ${keys.length} invalid document${keys.length === 1 ? '' : 's'} on ${result.remote} (${first.reason}): ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`, {
          hint: 'everything valid was fetched; whoever can write the remote should push those versions again or remove the documents',
          data: { rejected: result.rejected, result },
        });
      }),
    );
}

function renderFetch(r: FetchResult): string {
  if (r.models.length === 0) return `Nothing on ${r.remote}`;
  // Only models that changed get a line; the rest are one summary line.
  const changed = r.models.filter((m) => m.newVersions.length || m.tags.length || m.stages.length || m.events || m.renumbered.length || m.removedOnRemote.length);
  const lines = changed.map((m) => {
    const parts = [
      m.newVersions.length && countOf(m.newVersions.length, 'new version'),
      m.tags.length && countOf(m.tags.length, 'tag change'),
      m.stages.length && countOf(m.stages.length, 'stage move'),
      m.events && countOf(m.events, 'event'),
    ].filter(Boolean);
    const renum = m.renumbered.map((x) => `\n  renumbered local v${x.from} → v${x.to}`).join('');
    // Still listed here (nothing local is deleted), but no longer pullable from this remote.
    const gone = m.removedOnRemote.map((x) => `\n  v${x.number} was removed on ${r.remote} by ${x.actor} (reason: ${x.reason}); still listed here, pull cannot bring it`).join('');
    return `${m.model}: ${parts.length ? parts.join(', ') : m.renumbered.length ? 'renumbered' : 'up to date'}${renum}${gone}`;
  });
  const quiet = r.models.length - changed.length;
  lines.push(changed.length === 0 ? `Up to date with ${r.remote}: nothing new for ${countOf(r.models.length, 'model')}` : quiet ? `${countOf(quiet, 'other model')} up to date` : `Fetched from ${r.remote}`);
  return lines.join('\n');
}
