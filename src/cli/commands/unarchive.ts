import type { Command } from 'commander';
import { action } from '../action.js';
import { render } from './archive.js';

interface UnarchiveFlags {
  reason?: string;
}

/** `modelctl unarchive <ref>`: make an archived version promotable again. */
export function registerUnarchive(program: Command): Command {
  return program
    .command('unarchive')
    .description('clear the archived mark of a version')
    .addHelpText('after', '\nExamples:\n  modelctl unarchive fraud@v2 --reason "leak was a false alarm"')
    .argument('<ref>', 'the version')
    .option('--reason <text>', 'why (recorded in the audit event)')
    .action(
      action<UnarchiveFlags>(async (ctx, opts, ref: string) => {
        const { unarchive } = await import('../../api/archive.js');
        render(ctx, await unarchive({ cwd: ctx.cwd, ref, reason: opts.reason, argv: ctx.argv }));
      }),
    );
}
