/**
 * What `modelctl __complete <words…>` prints: the completions of the last word, worked out
 * from the commander program itself (commands, subcommands, flags, argument names, choices)
 * plus the repository's index for models, tags, stages, version numbers and remotes. So a new
 * command or flag completes without touching the shell scripts.
 */
import type { Argument, Command, Option } from 'commander';

/** The dynamic names completion offers; every function may return [] (no repository, no index). */
export interface CompletionData {
  models(): string[];
  /** Selectors after `<model>@`: latest, stages, tags, v<N>. */
  selectors(model: string): string[];
  stages(): string[];
  remotes(): string[];
  templates(): string[];
  helpTopics(): string[];
}

const SHELLS = ['bash', 'zsh', 'fish'];

function isHidden(cmd: Command): boolean {
  return (cmd as unknown as { _hidden?: boolean })._hidden === true;
}

/** Options a word may be, for `cmd`: its own and the program's global ones. */
function optionsOf(cmd: Command, program: Command): Option[] {
  const own = [...cmd.options];
  if (cmd !== program) for (const o of program.options) if (!own.some((x) => x.long === o.long)) own.push(o);
  return own.filter((o) => !o.hidden);
}

function findOption(options: readonly Option[], word: string): Option | undefined {
  const flag = word.split('=')[0];
  return options.find((o) => o.long === flag || o.short === flag);
}

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

/**
 * Completions of `words[words.length - 1]` given the words before it (everything after
 * `modelctl`), filtered by that prefix. Never throws for odd input: unknown words are
 * taken as positionals.
 */
export function completeWords(program: Command, words: readonly string[], data: CompletionData): string[] {
  const current = words.length ? words[words.length - 1] : '';
  const before = words.slice(0, -1);
  let cmd = program;
  const positionals: string[] = [];
  let pendingOption: Option | undefined;
  let dashDash = false;
  for (const w of before) {
    if (pendingOption) {
      pendingOption = undefined;
      continue;
    }
    if (!dashDash && w === '--') {
      dashDash = true;
      continue;
    }
    if (!dashDash && w.startsWith('-') && w.length > 1) {
      const o = findOption(optionsOf(cmd, program), w);
      if (o && takesValue(o) && !w.includes('=')) pendingOption = o;
      continue;
    }
    const sub = positionals.length === 0 ? cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
    if (sub) cmd = sub;
    else positionals.push(w);
  }

  let candidates: string[];
  if (pendingOption) candidates = optionValues(pendingOption, cmd, current, data);
  else if (current.startsWith('-') && !dashDash) {
    candidates = [...optionsOf(cmd, program).flatMap((o) => (o.long ? [o.long] : o.short ? [o.short] : [])), '--help'];
  } else if (cmd.commands.length > 0 && positionals.length === 0) {
    candidates = cmd.commands.filter((c) => !isHidden(c)).map((c) => c.name());
  } else {
    candidates = argumentValues(cmd, positionals.length, current, data);
  }
  return [...new Set(candidates)].filter((c) => c.startsWith(current));
}

function optionValues(o: Option, cmd: Command, current: string, data: CompletionData): string[] {
  if (o.argChoices?.length) return o.argChoices;
  const name = o.long ?? '';
  if (name === '--to' || name === '--stage') return data.stages();
  if (name === '--remote') return data.remotes();
  if (name === '--parent') return references(current, data);
  if (name === '--template' && cmd.name() === 'init') return data.templates();
  return []; // a file, a number, free text: the shell's own completion takes over
}

function argumentValues(cmd: Command, index: number, current: string, data: CompletionData): string[] {
  const args: readonly Argument[] = cmd.registeredArguments;
  if (args.length === 0) return [];
  const last = args[args.length - 1];
  const arg = index < args.length ? args[index] : last.variadic ? last : undefined;
  if (!arg) return [];
  const name = arg.name();
  if (arg.argChoices?.length) return arg.argChoices;
  if (cmd.name() === 'help') return [...data.helpTopics(), ...helpCommands(cmd)];
  if (cmd.name() === 'completion' && name === 'shell') return SHELLS;
  if (/^ref/.test(name)) return references(current, data);
  if (name === 'model') return data.models();
  if (name === 'name' && cmd.parent?.name() === 'remote') return data.remotes();
  return [];
}

function helpCommands(helpCmd: Command): string[] {
  const program = helpCmd.parent;
  return program ? program.commands.filter((c) => !isHidden(c)).map((c) => c.name()) : [];
}

/** `fraud`, `fraud@` (so the shell stops before the @), then `fraud@<selector>` once @ is typed. */
function references(current: string, data: CompletionData): string[] {
  const at = current.indexOf('@');
  if (at === -1) return data.models().flatMap((m) => [m, `${m}@`]);
  const model = current.slice(0, at);
  return data.selectors(model).map((s) => `${model}@${s}`);
}
