import { Option, type Command } from 'commander';
import type { CheckoutResult } from '../../api/checkout.js';
import type { RestoreLockResult } from '../../api/lock-restore.js';
import type { LinkMode } from '../../workspace/materialize.js';
import { action } from '../action.js';
import { formatBytes } from '../format.js';
import { reportLock } from '../lock-report.js';
import { parseStripComponents, renderPlacement } from './placement-render.js';

interface CheckoutFlags {
  out?: string;
  link?: LinkMode;
  force?: boolean;
  stripComponents?: string;
  lock?: boolean;
  remote?: string;
}

/** `modelctl checkout [ref]`: make the model's files exactly a version's; with no ref, every model's locked version. */
export function registerCheckout(program: Command): Command {
  return program
    .command('checkout')
    .description(
      "make the model's files exactly a version's (verified): written to their recorded paths or into --out; files of the version replaced that it lacks are removed. With no ref, every model goes to its version in modelctl.lock",
    )
    .argument('[ref]', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix] (default: the versions modelctl.lock names)')
    .option('-o, --out <dir>', 'write into this folder instead of the repository')
    .option('--strip-components <n>', 'with --out: drop the first n folders of every path (model/w.bin → w.bin with 1)')
    .addOption(new Option('--link <mode>', 'how to place files').choices(['auto', 'reflink', 'hardlink', 'copy']))
    .option('-f, --force', 'overwrite or remove files with local changes')
    .option('--lock', 'record the version in modelctl.lock (default: the lock setting; not with --out)')
    .option('-r, --remote <name|url>', 'with no ref: where to fetch locked versions this repository lacks (default: the default remote)')
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl checkout fraud@v1              # back to an old version (files v1 lacks are removed)\n  modelctl checkout fraud                 # forward to the latest again\n  modelctl checkout fraud@production --out ./serving --strip-components 1 --link hardlink\n  git checkout v1.2 && modelctl checkout  # every model as that commit\'s modelctl.lock names it\n  modelctl checkout fraud@v3 --lock       # use v3 from now on (then commit modelctl.lock)',
    )
    .action(
      action<CheckoutFlags>(async (ctx, opts, ref?: string) => {
        const stripComponents = parseStripComponents(opts.stripComponents);
        if (ref === undefined) {
          const { restoreLocked } = await import('../../api/lock-restore.js');
          const restored = await restoreLocked({ cwd: ctx.cwd, out: opts.out, link: opts.link, force: opts.force, stripComponents, remote: opts.remote });
          ctx.out.result(restored, (r: RestoreLockResult) => {
            if (r.models.length === 0) return 'modelctl.lock names no models: nothing to check out';
            const lines = r.fetched ? [`Fetched ${r.fetched.versions.length} locked version${r.fetched.versions.length === 1 ? '' : 's'} from ${r.fetched.remote} (${formatBytes(r.fetched.bytesDownloaded)})`] : [];
            for (const m of r.models) lines.push(describe(m));
            return lines.join('\n');
          });
          return;
        }
        const { checkout } = await import('../../api/checkout.js');
        const result = await checkout({ cwd: ctx.cwd, ref, out: opts.out, link: opts.link, force: opts.force, stripComponents, lock: opts.lock });
        reportLock(ctx, result.lock);
        ctx.out.result(result, describe);
      }),
    );
}

function describe(r: CheckoutResult): string {
  return `Checked out ${r.version.ref} (${r.version.shortId}) into ${r.outDir}: ${renderPlacement(r.files, r.removed)}`;
}
