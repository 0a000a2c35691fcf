import { resolve } from 'node:path';
import { Argument, type Command } from 'commander';
import { action } from '../action.js';

/**
 * `modelctl completion bash|zsh|fish`: prints a completion script. Also registers the hidden
 * `modelctl __complete -- <words…>` the scripts call on every Tab press.
 */
export function registerCompletion(program: Command): Command {
  program
    .command('__complete', { hidden: true })
    .description('print the completions of the last word, one a line (used by the completion scripts)')
    .argument('[words...]', 'the words typed after `modelctl`, the last one being completed')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (words: string[] = [], _opts: unknown, cmd: Command) => {
      // Never loud: a Tab press that fails prints nothing and exits 0.
      try {
        const { completeWords } = await import('../completion/candidates.js');
        const { repositoryCompletionData } = await import('../completion/index-data.js');
        const { HELP_TOPICS } = await import('../help-topics.js');
        const dirAt = words.slice(0, -1).lastIndexOf('-C');
        const cwd = dirAt >= 0 && words[dirAt + 1] !== undefined ? resolve(words[dirAt + 1]) : process.cwd();
        const data = await repositoryCompletionData(cwd, HELP_TOPICS.map((t) => t.name));
        try {
          const root = cmd.parent ?? program;
          const out = completeWords(root, words.length ? words : [''], data);
          if (out.length) process.stdout.write(`${out.join('\n')}\n`);
        } finally {
          data.close();
        }
      } catch {
        /* see above */
      }
    });

  return program
    .command('completion')
    .description('print a shell completion script: commands, flags, models, tags, stages')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  source <(modelctl completion bash)                      # bash, this shell only
  modelctl completion bash > ~/.local/share/bash-completion/completions/modelctl
  modelctl completion zsh > "\${fpath[1]}/_modelctl"       # zsh (then restart it)
  modelctl completion fish > ~/.config/fish/completions/modelctl.fish`,
    )
    .action(
      action<object>(async (ctx, _opts, shell: 'bash' | 'zsh' | 'fish') => {
        const { completionScript } = await import('../completion/scripts.js');
        const script = completionScript(shell);
        ctx.out.result({ shell, script }, (r) => r.script);
      }),
    );
}
