import type { HookOutcome } from '../workspace/hooks.js';
import type { CommandContext } from './action.js';

/**
 * Shows what hooks said, on stderr as git does: a failed post-* hook as a warning (it
 * does not undo the change), a successful hook's output as-is (e.g. "deployment
 * requested"). A failed pre-* hook is an error and reaches the user through it.
 */
export function reportHooks(ctx: CommandContext, hooks: readonly HookOutcome[]): void {
  for (const h of hooks) {
    if (!h.ran) continue;
    if (h.exitCode !== 0 && h.hook.startsWith('post-')) {
      ctx.out.warn(`${h.hook} hook failed (exit ${h.exitCode}); the change stands${h.output ? `:\n${h.output.trimEnd()}` : ''}`);
    } else if (h.exitCode === 0 && h.output.trim() && !ctx.out.quiet) {
      process.stderr.write(`${h.hook}: ${h.output.trimEnd().split('\n').join(`\n${h.hook}: `)}\n`);
    }
  }
}
