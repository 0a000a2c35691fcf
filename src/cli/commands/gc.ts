import type { Command } from 'commander';
import type { GcResult } from '../../api/gc.js';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { describeGrace } from '../../store/gc-grace.js';
import { countOf, formatBytes } from '../format.js';

/** `modelctl gc`: drop unreferenced local objects. */
export function registerGc(program: Command): Command {
  return program
    .command('gc')
    .description('delete local objects that no version needs')
    .option('-n, --dry-run', 'list what would be deleted, delete nothing')
    .option('--keep-last <n>', "also drop the bytes of older untagged, unstaged versions that are safely on a remote (their metadata stays; pull brings them back)")
    .addHelpText('after', '\nExamples:\n  modelctl gc --dry-run\n  modelctl gc --keep-last 3')
    .action(
      action<{ dryRun?: boolean; keepLast?: string }>(async (ctx, opts) => {
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
          (r.thinnedVersions.length ? `; ${countOf(r.thinnedVersions.length, 'old version')} thinned (still on the remote)` : ''),
        );
      }),
    );
}
