import { Option, type Command } from 'commander';
import type { CheckoutResult } from '../../api/checkout.js';
import type { LinkMode } from '../../workspace/materialize.js';
import { action } from '../action.js';
import { parseStripComponents, renderPlacement } from './placement-render.js';

/** `modelctl checkout <ref>`: make the model's files exactly a version's. */
export function registerCheckout(program: Command): Command {
  return program
    .command('checkout')
    .description("make the model's files exactly a version's (verified): written to their recorded paths or into --out; files of the version replaced that it lacks are removed")
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .option('-o, --out <dir>', 'write into this folder instead of the repository')
    .option('--strip-components <n>', 'with --out: drop the first n folders of every path (model/w.bin → w.bin with 1)')
    .addOption(new Option('--link <mode>', 'how to place files').choices(['auto', 'reflink', 'hardlink', 'copy']))
    .option('-f, --force', 'overwrite or remove files with local changes')
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl checkout fraud@v1              # back to an old version (files v1 lacks are removed)\n  modelctl checkout fraud                 # forward to the latest again\n  modelctl checkout fraud@production --out ./serving --strip-components 1 --link hardlink',
    )
    .action(
      action<{ out?: string; link?: LinkMode; force?: boolean; stripComponents?: string }>(async (ctx, opts, ref: string) => {
        const stripComponents = parseStripComponents(opts.stripComponents);
        const { checkout } = await import('../../api/checkout.js');
        const result = await checkout({ cwd: ctx.cwd, ref, out: opts.out, link: opts.link, force: opts.force, stripComponents });
        ctx.out.result(result, (r: CheckoutResult) => `Checked out ${r.version.ref} (${r.version.shortId}) into ${r.outDir}: ${renderPlacement(r.files, r.removed)}`);
      }),
    );
}
