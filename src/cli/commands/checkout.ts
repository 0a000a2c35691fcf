import { Option, type Command } from 'commander';
import type { CheckoutResult } from '../../api/checkout.js';
import type { LinkMode } from '../../workspace/materialize.js';
import { action } from '../action.js';
import { formatBytes } from '../format.js';

/** `modelctl checkout <ref>`: write a version's files. */
export function registerCheckout(program: Command): Command {
  return program
    .command('checkout')
    .description("write a version's files (verified) to their recorded paths or into --out")
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .option('-o, --out <dir>', 'write into this folder instead of the repository')
    .addOption(new Option('--link <mode>', 'how to place files').choices(['auto', 'reflink', 'hardlink', 'copy']))
    .option('-f, --force', 'overwrite files with local changes')
    .addHelpText('after', '\nExamples:\n  modelctl checkout fraud@v1\n  modelctl checkout fraud@production --out ./serving --link hardlink')
    .action(
      action<{ out?: string; link?: LinkMode; force?: boolean }>(async (ctx, opts, ref: string) => {
        const { checkout } = await import('../../api/checkout.js');
        const result = await checkout({ cwd: ctx.cwd, ref, out: opts.out, link: opts.link, force: opts.force });
        ctx.out.result(result, (r: CheckoutResult) => {
          const written = r.files.filter((f) => f.action === 'written');
          const bytes = written.reduce((s, f) => s + f.size, 0);
          return `Checked out ${r.version.ref} (${r.version.shortId}) into ${r.outDir}: ${written.length} written (${formatBytes(bytes)}), ${r.files.length - written.length} unchanged`;
        });
      }),
    );
}
