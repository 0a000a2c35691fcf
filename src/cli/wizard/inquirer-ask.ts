import { InterruptedError } from '../../errors.js';
import type { Ask } from './init-wizard.js';

/**
 * The wizard's questions asked with @inquirer/prompts on stderr (stdout stays the command's
 * result). Loaded only when a person is really asked, so scripted runs never load inquirer.
 * Ctrl-C at a question is an interruption (exit 130) with nothing written.
 */
export async function inquirerAsk(): Promise<Ask> {
  const prompts = await import('@inquirer/prompts');
  const context = { output: process.stderr };
  const guard = async <T>(question: Promise<T>): Promise<T> => {
    try {
      return await question;
    } catch (err) {
      if (err instanceof Error && err.name === 'ExitPromptError') throw new InterruptedError('interrupted during `modelctl init`; nothing was written');
      throw err;
    }
  };
  return {
    input: (q) => guard(prompts.input({ message: q.message, default: q.default, validate: q.validate }, context)),
    confirm: (q) => guard(prompts.confirm({ message: q.message, default: q.default }, context)),
    select: <T extends string>(q: { message: string; choices: { value: T; name: string; description?: string }[]; default?: T }) =>
      guard(prompts.select<T>({ message: q.message, choices: q.choices, default: q.default }, context)),
    note: (text) => process.stderr.write(`${text}\n`),
  };
}
