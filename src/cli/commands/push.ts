import type { Command } from 'commander';
import type { PushResult } from '../../api/push.js';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { remoteTargetOf, withEndpointOptions, withPlainHttpOption } from '../remote-options.js';
import { countOf, formatBytes } from '../format.js';
import { oneLine } from '../event-format.js';
import { progressBar } from '../progress.js';

/** Parses --jobs. */
export function parseJobs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError('INVALID_JOBS', '--jobs needs a whole number from 1 to 256');
  return n;
}

/** `modelctl push [refs…]`. */
export function registerPush(program: Command): Command {
  return withPlainHttpOption(withEndpointOptions(
    program
      .command('push')
      .description('upload versions, tags, stages and events the remote lacks')
      .argument('[refs...]', 'models (all their versions) or references (one version); default: everything')
      .option('--all', 'push every model (the default when no refs are given)')
      .option('-r, --remote <name|url>', 'remote (default: the default remote)')
      .option('-j, --jobs <n>', 'requests in flight (default 8)'),
  ))
    .addHelpText('after', '\nExamples:\n  modelctl push\n  modelctl push fraud --remote origin\n  modelctl push fraud@v3 --jobs 32\n  modelctl push fraud --remote oci://ghcr.io/acme/models   # a CNCF ModelPack artifact per version')
    .action(
      action<{ all?: boolean; remote?: string; endpoint?: string; region?: string; jobs?: string; plainHttp?: boolean }>(async (ctx, opts, refs: string[]) => {
        if (opts.all && refs.length) throw new UsageError('USAGE', 'give refs or --all, not both');
        const jobs = parseJobs(opts.jobs);
        const { push } = await import('../../api/push.js');
        const bar = await progressBar(ctx, 'push');
        let result: PushResult;
        try {
          result = await push({ cwd: ctx.cwd, refs, ...remoteTargetOf(opts), jobs, argv: ctx.argv, onProgress: bar.listener });
        } finally {
          bar.stop();
        }
        ctx.out.warnAll(result);
        ctx.out.result(result, renderPush);
      }),
    );
}

/** People's summary of a push (also used when a push ends in a conflict). */
export function renderPush(r: PushResult): string {
  const up = r.versions.filter((v) => v.status === 'uploaded');
  const there = r.versions.filter((v) => v.status === 'already-there');
  const lines = [
    `Pushed to ${r.remote}: ${countOf(up.length, 'version')} (${there.length} already there), ${countOf(r.chunks.uploaded, r.remote.startsWith('oci://') ? 'blob' : 'chunk')} (${formatBytes(r.bytesUploaded)}) uploaded, ${r.chunks.alreadyThere + r.chunks.knownFromIndex} already there, ${countOf(r.events, 'event')}${r.signatures.published ? `, ${countOf(r.signatures.published, 'signature')}` : ''}`,
  ];
  for (const v of r.versions) if (v.status === 'removed') lines.push(`  ${v.ref}: removed on the remote by ${v.removal?.actor} at ${v.removal?.at} (reason: ${oneLine(v.removal?.reason ?? '')}); not sent again`);
  for (const m of r.renumbered) lines.push(`  renumbered ${m.model}@v${m.from} → v${m.to} (the remote had given v${m.from} to another version)`);
  for (const t of r.tags) if (t.status !== 'in-sync') lines.push(`  tag ${t.model}@${t.tag}: ${t.status}`);
  for (const s of r.stages) if (s.status !== 'in-sync') lines.push(`  stage ${s.model}@${s.stage}: ${s.status}`);
  return lines.join('\n');
}
