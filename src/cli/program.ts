import { Command } from 'commander';
import { closest } from '../core/refs.js';
import { UsageError, codeOf } from '../errors.js';
import { MODELCTL_VERSION } from '../version.js';
import { withGlobalOptions, withGlobalOptionsDeep } from './action.js';

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
    if (program.commands.length === 1 && program.commands[0].name() === only.name) return checked(program, argv);
  }
  const program = newProgram();
  for (const register of (await import('./commands/index.js')).COMMANDS) add(program, register);
  return checked(program, argv);
}

/** The commands named on the command line (`['remote', 'add']`), as far as they exist. */
export function commandPath(program: Command, args: readonly string[]): string[] {
  const path: string[] = [];
  let cmd = program;
  for (const a of commandWords(args)) {
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    path.push(sub.name());
    cmd = sub;
  }
  return path;
}

/**
 * With --help, commander shows the nearest parent's help for a command that does not exist
 * (`modelctl comit --help` printed the general help, exit 0). A help request for an unknown
 * command or subcommand is a usage error (exit 2) suggesting the closest name, as the same
 * line without --help is.
 */
function checked(program: Command, argv: readonly string[] | undefined): Command {
  const args = argv?.slice(2) ?? [];
  if (!args.some((a) => a === '--help' || a === '-h')) return program;
  let cmd = program;
  for (const a of commandWords(args)) {
    const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    if (visible.length === 0) break; // the rest are the command's own arguments
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) {
      if (cmd !== program && cmd.registeredArguments.length > 0) break;
      const near = closest(a, visible.map((c) => c.name()));
      const where = cmd === program ? '' : ` for '${cmd.name()}'`;
      throw new UsageError('UNKNOWN_COMMAND', `unknown command '${a}'${where}`, {
        hint: near.length ? `did you mean ${[cmd === program ? '' : `${cmd.name()} `, near[0]].join('')}?` : `see \`modelctl ${cmd === program ? '' : `${cmd.name()} `}--help\``,
      });
    }
    cmd = sub;
  }
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
  withGlobalOptionsDeep(register(program));
}

/** The first argument that is not an option (or the value of -C). */
function commandName(args: readonly string[]): string | null {
  for (const a of commandWords(args)) return a;
  return null;
}

/** The arguments before `--` that are neither options nor the value of -C: command names, then the command's own arguments. */
function* commandWords(args: readonly string[]): Generator<string> {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return;
    if (a === '-C') i++;
    else if (!a.startsWith('-')) yield a;
  }
}

/** The registrar of command `name` by the file naming convention, or null to register all. */
async function loadOneCommand(name: string | null): Promise<{ name: string; register: Register } | null> {
  if (!name || !/^[a-z]+(-[a-z]+)*$/.test(name) || NEEDS_ALL_COMMANDS.has(name)) return null;
  let mod: Record<string, unknown>;
  try {
    // `.ts`, not `.js`: the build (src/build.mjs) turns this pattern into a table of every
    // file in commands/, each loaded only when named, so a new command needs no list entry.
    // Running the sources (tests) loads the file itself.
    mod = (await import(`./commands/${name}.ts`)) as Record<string, unknown>;
  } catch (err) {
    // No such file: an alias, a typo (commander suggests the right name) or no command.
    if (isModuleMissing(err)) return null;
    throw err;
  }
  // verify-signature → registerVerifySignature
  const register = mod[`register${name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`];
  return typeof register === 'function' ? { name, register: register as Register } : null;
}

/** Node's "no such module", or the bundle's "not one of the files the pattern matched". */
function isModuleMissing(err: unknown): boolean {
  return codeOf(err) === 'ERR_MODULE_NOT_FOUND' || (err instanceof Error && /^Module not found in bundle: /.test(err.message));
}
