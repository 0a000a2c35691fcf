import type { Command } from 'commander';
import type { TagsResult } from '../../api/tag.js';
import { action } from '../action.js';
import { formatTime, table } from '../format.js';

/** `modelctl tags <model>`: list a model's tags. */
export function registerTags(program: Command): Command {
  return program
    .command('tags')
    .description("list a model's tags")
    .addHelpText('after', '\nExamples:\n  modelctl tags fraud\n  modelctl tags fraud --json')
    .argument('<model>', 'model name')
    .action(
      action<object>(async (ctx, _opts, model: string) => {
        const { tags } = await import('../../api/tag.js');
        const result = await tags({ cwd: ctx.cwd, model });
        ctx.out.result(result, (r: TagsResult) => {
          if (r.tags.length === 0) return `No tags on ${r.model}`;
          return table([
            ['TAG', 'VERSION', 'ID', 'CREATED', 'BY', 'MESSAGE'],
            ...r.tags.map((t) => [t.name, t.ref ?? '?', t.shortId, formatTime(t.createdAt), t.actor, t.message ?? '']),
          ]);
        });
      }),
    );
}
