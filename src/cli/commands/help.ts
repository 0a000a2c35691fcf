import type { Command } from 'commander';
import { closest } from '../../core/refs.js';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { HELP_TOPICS, findHelpTopic } from '../help-topics.js';

/**
 * `modelctl help [topic|command…]`: the topic pages (references, stages, remotes,
 * exit-codes) and every command's help. Replaces commander's implicit help command so
 * topics and commands share one entry point; `--help` on any command still works.
 */
export function registerHelp(program: Command): Command {
  program.helpCommand(false);
  program.addHelpText(
    'after',
    `\nHelp topics (modelctl help <topic>):\n${HELP_TOPICS.map((t) => `  ${t.name.padEnd(12)}${t.summary}`).join('\n')}\n\nStart here:\n  modelctl init\n  modelctl commit fraud model/ -m "first version"\n  modelctl promote fraud@latest --to staging`,
  );
  return program
    .command('help')
    .description('show help for a command or a topic: references, stages, remotes, exit-codes')
    .argument('[name...]', 'a topic, a command, or a command and its subcommand (remote add)')
    .addHelpText('after', '\nExamples:\n  modelctl help references\n  modelctl help stages\n  modelctl help commit\n  modelctl help remote add')
    .action(
      action<object>(async (ctx, _opts, names: string[]) => {
        if (names.length === 0) {
          ctx.out.result({ topic: null, text: program.helpInformation() }, (r) => r.text);
          return;
        }
        const topic = names.length === 1 ? findHelpTopic(names[0]) : undefined;
        if (topic) {
          ctx.out.result({ topic: topic.name, text: topic.text }, (r) => r.text);
          return;
        }
        let cmd: Command = program;
        for (const name of names) {
          const sub = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
          if (!sub || (sub as unknown as { _hidden?: boolean })._hidden) {
            const candidates = [...cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name()), ...(cmd === program ? HELP_TOPICS.map((t) => t.name) : [])];
            const near = closest(name, candidates);
            throw new UsageError('UNKNOWN_HELP_TOPIC', `no command or help topic named '${name}'${near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`, {
              hint: `topics: ${HELP_TOPICS.map((t) => t.name).join(', ')}; commands: modelctl --help`,
            });
          }
          cmd = sub;
        }
        ctx.out.result({ topic: null, command: names.join(' '), text: cmd.helpInformation() }, (r) => r.text);
      }),
    );
}
