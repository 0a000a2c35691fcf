import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CardResult } from '../../api/card.js';
import { action } from '../action.js';
import { formatBytes, formatTime } from '../format.js';
import { parameterLine } from '../tensor-format.js';

interface CardFlags {
  output?: string;
  template?: string;
}

/** `modelctl card <ref>`: a Markdown model card. */
export function registerCard(program: Command): Command {
  return program
    .command('card')
    .description('render a Markdown model card: lineage, params, metrics, tags, stages, history')
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .option('-o, --output <file>', 'write the card to a file (atomically) instead of stdout')
    .option('--template <file>', 'a Markdown template of your own (start from the shipped templates/model-card.md)')
    .addHelpText(
      'after',
      `
Examples:
  modelctl card fraud@production
  modelctl card fraud@v3 -o MODEL_CARD.md
  modelctl card fraud --template docs/card-template.md -o docs/fraud.md`,
    )
    .action(
      action<CardFlags>(async (ctx, opts, ref: string) => {
        const { card } = await import('../../api/card.js');
        const result = await card({ cwd: ctx.cwd, ref, template: opts.template, format: { bytes: formatBytes, time: (iso) => formatTime(iso), parameters: parameterLine } });
        let output: string | null = null;
        if (opts.output) {
          const { writeFileAtomic } = await import('../../workspace/atomic-file.js');
          output = resolve(ctx.cwd, opts.output);
          writeFileAtomic(output, result.markdown);
        }
        const doc: CardResult & { output: string | null } = { ...result, output };
        ctx.out.result(doc, (r) => (r.output ? `Wrote the model card of ${r.ref} to ${opts.output}` : r.markdown));
      }),
    );
}
