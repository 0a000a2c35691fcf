import type { Command } from 'commander';
import type { ArchiveResult } from '../../api/archive.js';
import { action } from '../action.js';
import type { CommandContext } from '../action.js';

interface ArchiveFlags {
  reason?: string;
}

/** `modelctl archive <ref>`: retire a version (it can no longer be promoted). */
export function registerArchive(program: Command): Command {
  return program
    .command('archive')
    .description('mark a version retired: it still resolves but cannot be promoted')
    .addHelpText('after', '\nExamples:\n  modelctl archive fraud@v2 --reason "data leak in the training set"\n  modelctl unarchive fraud@v2')
    .argument('<ref>', 'the version')
    .option('--reason <text>', 'why (recorded in the audit event)')
    .action(
      action<ArchiveFlags>(async (ctx, opts, ref: string) => {
        const { archive } = await import('../../api/archive.js');
        render(ctx, await archive({ cwd: ctx.cwd, ref, reason: opts.reason, argv: ctx.argv }));
      }),
    );
}

/** Prints an archive or unarchive result (shared with unarchive). */
export function render(ctx: CommandContext, result: ArchiveResult): void {
  const v = result.version;
  if (result.action === 'archive' && result.changed && v.stages.length) {
    ctx.out.warn(`${v.ref} still holds ${v.stages.join(', ')}; promote another version to replace it`);
  }
  ctx.out.result(result, (r: ArchiveResult) => {
    const what = `${r.version.ref} (${r.version.shortId})`;
    if (!r.changed) return `${what} is already ${r.action === 'archive' ? 'archived' : 'not archived'}; nothing to do`;
    return r.action === 'archive' ? `Archived ${what}` : `Unarchived ${what}`;
  });
}
