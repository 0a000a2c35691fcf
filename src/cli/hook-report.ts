import type { HookOutcome } from '../workspace/hooks.js';
import type { CommandContext } from './action.js';

/** Shows failed post-* hooks as warnings (they do not undo the change). */
export function reportHooks(ctx: CommandContext, hooks: readonly HookOutcome[]): void {
  for (const h of hooks) {
    if (h.ran && h.exitCode !== 0 && h.hook.startsWith('post-')) {
      ctx.out.warn(`${h.hook} hook failed (exit ${h.exitCode}); the change stands${h.output ? `:\n${h.output.trimEnd()}` : ''}`);
    }
  }
}
