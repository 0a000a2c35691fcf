import type { Command } from 'commander';
import type { StatusResult } from '../../api/status.js';
import { action } from '../action.js';

/** `modelctl status [model]`: what changed since the latest version. */
export function registerStatus(program: Command): Command {
  return program
    .command('status')
    .description("show which tracked files changed since each model's latest version")
    .argument('[model]', 'one model (default: all)')
    .addHelpText('after', '\nExamples:\n  modelctl status\n  modelctl status fraud --json')
    .action(
      action<object>(async (ctx, _opts, model?: string) => {
        const { status } = await import('../../api/status.js');
        const result = await status({ cwd: ctx.cwd, model });
        ctx.out.result(result, (r: StatusResult) => {
          const c = ctx.out.color;
          if (r.models.length === 0) return 'No models yet: commit one with `modelctl commit <model> <paths>`';
          const lines: string[] = [];
          for (const m of r.models) {
            const head = m.version ? `${m.version.ref} (${m.version.shortId})` : 'no versions yet';
            lines.push(`${c.bold(m.model)}: ${head}${m.clean ? ' — clean' : ''}`);
            for (const f of m.modified) lines.push(`  ${c.yellow('modified:')} ${f.path}`);
            for (const f of m.added) lines.push(`  ${c.green('new:     ')} ${f.path}`);
            for (const f of m.deleted) lines.push(`  ${c.red('deleted: ')} ${f.path}`);
          }
          return lines.join('\n');
        });
      }),
    );
}
