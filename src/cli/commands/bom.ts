import type { Command } from 'commander';
import { action } from '../action.js';

/** `modelctl bom <ref> [-o file]`: a CycloneDX 1.6 ML-BOM of a version. */
export function registerBom(program: Command): Command {
  return program
    .command('bom')
    .description('write a CycloneDX 1.6 ML-BOM of a version: model, files with sha256, model card, data inputs, code commit, tool')
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .option('-o, --output <file>', 'write the BOM to a file (atomically) instead of stdout')
    .addHelpText('after', '\nExamples:\n  modelctl bom fraud@production\n  modelctl bom fraud@v3 -o fraud-v3.cdx.json')
    .action(
      action<{ output?: string }>(async (ctx, opts, ref: string) => {
        const { bom } = await import('../../api/bom.js');
        const result = await bom({ cwd: ctx.cwd, ref, output: opts.output });
        ctx.out.warnAll(result);
        // Without -o the BOM itself is the output (JSON either way); --json wraps it with where it went.
        ctx.out.result(result, (r) => (r.output ? `Wrote the ML-BOM of ${r.version.ref} to ${opts.output}` : JSON.stringify(r.bom, null, 2)));
      }),
    );
}
