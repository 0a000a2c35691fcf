import type { Command } from 'commander';
import type { GcResult } from '../../api/gc.js';
import type { RemoteGcResult } from '../../api/remote-gc.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { action, type CommandContext } from '../action.js';
import { describeGrace } from '../../store/gc-grace.js';
import { countOf, formatBytes } from '../format.js';
import { parseJobs } from './push.js';

/** `modelctl gc`: drop unreferenced local objects, or (--remote) what a remote's retention lets go. */
export function registerGc(program: Command): Command {
  return program
    .command('gc')
    .description("delete local objects that no version needs; with --remote, what the models' retention policies let go on that remote")
    .option('-n, --dry-run', 'list what would be deleted (and why the rest is kept), delete nothing')
    .option('--keep-last <n>', "also drop the bytes of older untagged, unstaged versions that are safely on a remote (their metadata stays; pull brings them back)")
    .option('-r, --remote <name|url>', "collect on this remote: versions models.<name>.retention lets go, and objects nothing references")
    .option('--grace <duration>', 'with --remote: keep unreferenced objects younger than this, by the remote\'s clock (default 1h; 0s when no writer is active)')
    .option('-y, --yes', 'with --remote: do not ask before deleting')
    .option('-j, --jobs <n>', 'with --remote: requests in flight (default 8)')
    .addHelpText('after', '\nExamples:\n  modelctl gc --dry-run\n  modelctl gc --keep-last 3\n  modelctl gc --remote origin --dry-run\n  modelctl gc --remote origin --yes\n  modelctl gc --remote origin --grace 0s --yes')
    .action(
      action<{ dryRun?: boolean; keepLast?: string; remote?: string; grace?: string; yes?: boolean; jobs?: string }>(async (ctx, opts) => {
        if (opts.remote) {
          if (opts.keepLast !== undefined) throw new UsageError('USAGE', '--keep-last is for the local store; on a remote, models.<name>.retention in modelctl.json decides');
          const { gcRemote } = await import('../../api/remote-gc.js');
          const result = await gcRemote({ cwd: ctx.cwd, remote: opts.remote, dryRun: opts.dryRun, grace: opts.grace, jobs: parseJobs(opts.jobs), argv: ctx.argv, confirm: remoteConfirmer(ctx, opts.yes) });
          ctx.out.result(result, renderRemoteGc);
          return;
        }
        if (opts.grace !== undefined || opts.yes) throw new UsageError('USAGE', '--grace and --yes go with --remote (the local grace period is MODELCTL_GC_GRACE_SECONDS)');
        let keepLast: number | undefined;
        if (opts.keepLast !== undefined) {
          keepLast = Number(opts.keepLast);
          if (!Number.isInteger(keepLast) || keepLast < 0) throw new UsageError('INVALID_KEEP_LAST', '--keep-last needs a whole number ≥ 0');
        }
        const { gc } = await import('../../api/gc.js');
        const result = await gc({ cwd: ctx.cwd, dryRun: opts.dryRun, keepLast, argv: ctx.argv });
        ctx.out.result(result, (r: GcResult) =>
          `${r.dryRun ? 'Would delete' : 'Deleted'} ${countOf(r.deleted.length, 'object')} (${formatBytes(r.freedBytes)}); kept ${r.keptObjects}` +
          (r.keptInGrace ? ` (${r.keptInGrace} no version needs, kept because ${r.keptInGrace === 1 ? 'it is' : 'they are'} younger than the grace period of ${describeGrace(r.graceSeconds)}; MODELCTL_GC_GRACE_SECONDS)` : '') +
          (r.thinnedVersions.length ? `; ${countOf(r.thinnedVersions.length, 'old version')} thinned (still on the remote)` : '') +
          keptOldLines(r),
        );
      }),
    );
}

const WHY_TEXT: Record<string, string> = {
  'on no remote': 'on no remote (`modelctl push` it first)',
  'bytes kept': 'its bytes are younger than the grace period or shared with a version kept (a later `gc --keep-last` thins it)',
};

/** With --keep-last: the older versions kept whole, each with why (the fix for "on no remote" is a push). */
function keptOldLines(r: GcResult): string {
  if (r.keptOld.length === 0) return '';
  const shown = r.keptOld.slice(0, 10).map((k) => `\n  kept ${k.ref} whole: ${k.why.map((w) => WHY_TEXT[w] ?? w).join(', ')}`);
  return `${shown.join('')}${r.keptOld.length > 10 ? `\n  … and ${r.keptOld.length - 10} more (--json: keptOld)` : ''}`;
}

/** The question asked before a remote gc deletes, or undefined when the command may not ask. */
function remoteConfirmer(ctx: CommandContext, yes: boolean | undefined): ((plan: RemoteGcResult) => Promise<boolean>) | undefined {
  if (!ctx.canPrompt(yes)) return undefined;
  return async (plan) => {
    if (plan.removedVersions.length === 0 && plan.deleted.bytes === 0 && plan.deleted.chunks.count === 0) return true; // recording a removal deletes nothing: no question
    process.stderr.write(renderRemoteGc({ ...plan, dryRun: true }) + '\n');
    const { confirm } = await import('@inquirer/prompts');
    try {
      return await confirm({ message: `Delete this from ${plan.remote}?`, default: false }, { output: process.stderr });
    } catch (err) {
      if (err instanceof Error && err.name === 'ExitPromptError') throw new InterruptedError('interrupted at the confirmation; nothing was deleted');
      throw err;
    }
  };
}

/** People's account of a remote gc: versions by number, objects, bytes, and why each kept version is kept. */
export function renderRemoteGc(r: RemoteGcResult): string {
  const [verb, deleteVerb] = r.dryRun ? ['Would remove', 'delete'] : ['Removed', 'deleted'];
  const lines = [
    `${verb} ${countOf(r.removedVersions.length, 'version')} and ${deleteVerb} ${countOf(r.deleted.chunks.count, 'chunk')}, ${countOf(r.deleted.fileLists.count, 'file list')}, ${countOf(r.deleted.manifests.count, 'manifest')}${r.deleted.signatures.count ? `, ${countOf(r.deleted.signatures.count, 'signature')}` : ''}${r.deleted.tempFiles.count ? `, ${countOf(r.deleted.tempFiles.count, 'temp file')} of killed uploads` : ''} (${formatBytes(r.deleted.bytes)}) on ${r.remote}`,
  ];
  for (const v of r.removedVersions) lines.push(`  ${r.dryRun ? 'would remove' : 'removed'} ${v.model}@v${v.number} (${v.id.slice(0, 12)}): ${v.reason}`);
  for (const v of r.keptVersions) lines.push(`  ${r.dryRun ? 'keep' : 'kept'} ${v.model}@v${v.number} (${v.id.slice(0, 12)}): ${describe(v.reasons)}`);
  for (const id of r.rescued) lines.push(`  kept ${id.slice(0, 12)}: a tag or stage moved onto it during the gc`);
  for (const v of r.unrecordedRemovals) lines.push(`  ${r.dryRun ? 'would record' : 'recorded'} the removal of ${v.model}@v${v.number} (${v.id.slice(0, 12)}): its tombstone had no remove event (a gc or rm killed between the two)`);
  if (r.keptInGrace.count) lines.push(`  kept ${countOf(r.keptInGrace.count, 'unreferenced object')} (${formatBytes(r.keptInGrace.bytes)}) younger than the grace period of ${describeGrace(r.graceSeconds)} (--grace)`);
  return lines.join('\n');
}

function describe(reasons: readonly string[]): string {
  return reasons
    .map((x) => {
      if (x === 'no-policy') return 'no retention policy';
      if (x === 'keep_last') return 'among the newest (keep_last)';
      if (x === 'keep_newer_than') return 'newer than keep_newer_than';
      const i = x.indexOf(':');
      const [kind, name] = [x.slice(0, i), x.slice(i + 1)];
      return kind === 'stage' ? `holds ${name}` : kind === 'tag' ? `tagged ${name}` : kind === 'ever-held' ? `held ${name} before` : x;
    })
    .join(', ');
}
