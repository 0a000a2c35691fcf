import type { Command } from 'commander';
import type { RemoteRemoval } from '../../api/remove.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { action } from '../action.js';

/** `modelctl rm <ref> --remote <name> --reason <text>`: remove a version from a remote, on the record. */
export function registerRm(program: Command): Command {
  return program
    .command('rm')
    .description('remove a version from a remote, recorded as a `remove` event with its reason; its number is never reused (the bytes go at the next `gc --remote`)')
    .argument('<ref>', 'the version to remove')
    .requiredOption('-r, --remote <name|url>', 'the remote to remove it from')
    .option('--reason <text>', 'why (required: recorded in the audit trail)')
    .option('-y, --yes', 'do not ask before removing')
    .addHelpText('after', '\nExamples:\n  modelctl rm fraud@v3 --remote origin --reason "trained on leaked test data"\n  modelctl rm fraud@3f2a9c1 --remote origin --reason "GDPR erasure request #1234" --yes\n  modelctl gc --remote origin --yes     # then reclaim the space')
    .action(
      action<{ remote: string; reason?: string; yes?: boolean }>(async (ctx, opts, ref: string) => {
        if (!opts.reason) throw new UsageError('REASON_REQUIRED', 'rm needs --reason <text>: it is recorded in the audit trail', { hint: `modelctl rm ${ref} --remote ${opts.remote} --reason "why"` });
        const { remove } = await import('../../api/remove.js');
        const confirm = ctx.canPrompt(opts.yes)
          ? async (v: { ref: string; id: string }) => {
              const { confirm: ask } = await import('@inquirer/prompts');
              try {
                return await ask({ message: `Remove ${v.ref} (${v.id.slice(0, 12)}) from ${opts.remote}? Its number is never given again.`, default: false }, { output: process.stderr });
              } catch (err) {
                if (err instanceof Error && err.name === 'ExitPromptError') throw new InterruptedError('interrupted at the confirmation; nothing was removed');
                throw err;
              }
            }
          : undefined;
        const result = await remove({ cwd: ctx.cwd, ref, remote: opts.remote, reason: opts.reason, argv: ctx.argv, confirm });
        ctx.out.warnAll(result);
        ctx.out.result(result, (r: RemoteRemoval) =>
          r.removed
            ? `Removed ${r.model}@v${r.number} (${r.id.slice(0, 12)}) from ${r.remote}: ${r.reason}\nIts bytes are deleted by the next \`modelctl gc --remote\`.`
            : `${r.model}@v${r.number} was removed from ${r.remote} already: ${r.reason}`,
        );
      }),
    );
}
