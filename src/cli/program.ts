import { Command } from 'commander';
import { MODELCTL_VERSION } from '../version.js';
import { withGlobalOptions } from './action.js';

type Register = (program: Command) => Command;

/**
 * Commands that look at the whole program (help lists every command; completion walks them
 * all), so they always get the full registration.
 */
const NEEDS_ALL_COMMANDS = new Set(['help', 'completion']);

/**
 * Builds the commander program. When `argv` names a command, only that command's module
 * is loaded and registered (commands/<name>.js exporting register<Name>): loading all ~30
 * command modules and what they import costs more than `node` takes to start, and
 * `modelctl log` should start in well under twice that (issue 5). Anything else (no
 * command, --help, an unknown or mistyped name for suggestions, help, completion) gets
 * every command, as before.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const only = argv ? await loadOneCommand(commandName(argv.slice(2))) : null;
  if (only) {
    const program = newProgram();
    add(program, only.register);
    // The naming convention held when the registrar added exactly the command typed.
    if (program.commands.length === 1 && program.commands[0].name() === only.name) return program;
  }
  const program = newProgram();
  for (const register of (await import('./commands/index.js')).COMMANDS) add(program, register);
  return program;
}

function newProgram(): Command {
  return withGlobalOptions(new Command('modelctl'))
    .description('Version machine-learning models like code: content-addressed storage, lineage, stages and a bucket as the registry.')
    .version(MODELCTL_VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
}

function add(program: Command, register: Register): void {
  withGlobalOptions(register(program)).exitOverride().configureOutput({ outputError: () => undefined });
}

/** The first argument that is not a global option (or the value of -C). */
function commandName(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return null;
    if (a === '-C') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return null;
}

/** The registrar of command `name` by the file naming convention, or null to register all. */
async function loadOneCommand(name: string | null): Promise<{ name: string; register: Register } | null> {
  if (!name || !/^[a-z]+$/.test(name) || NEEDS_ALL_COMMANDS.has(name)) return null;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`./commands/${name}.js`)) as Record<string, unknown>;
  } catch (err) {
    // No such file: an alias, a typo (commander suggests the right name) or no command.
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
  const register = mod[`register${name[0].toUpperCase()}${name.slice(1)}`];
  return typeof register === 'function' ? { name, register: register as Register } : null;
}
