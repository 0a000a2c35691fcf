import type { ConfirmStageMove } from '../api/stage-move.js';
import { InterruptedError } from '../errors.js';
import type { CommandContext } from './action.js';

/**
 * The confirmation asked before moving the last configured stage (production), or
 * undefined when the command may not ask: --yes, --json, CI set, or stdin not a TTY.
 * Non-interactive runs therefore proceed without a question, as scripts expect.
 */
export function stageConfirmer(ctx: CommandContext, yes: boolean | undefined): ConfirmStageMove | undefined {
  if (!ctx.canPrompt(yes)) return undefined;
  return async (q) => {
    // Loaded only when a question is really asked, so scripted runs never load inquirer.
    const { confirm } = await import('@inquirer/prompts');
    const from = q.previous ? `${q.previous.ref} (${q.previous.shortId})` : 'nobody';
    const verb = q.action === 'rollback' ? 'Roll back' : 'Move';
    try {
      // Prompts go to stderr so stdout stays the command's result.
      return await confirm(
        { message: `${verb} '${q.stage}' of ${q.model} from ${from} to ${q.version.ref} (${q.version.shortId})?`, default: false },
        { output: process.stderr },
      );
    } catch (err) {
      if (err instanceof Error && err.name === 'ExitPromptError') throw new InterruptedError('interrupted at the confirmation; nothing changed');
      throw err;
    }
  };
}
