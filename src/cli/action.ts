import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { redactArgv } from '../core/redact.js';
import { colorFor } from './color.js';
import { Output, type GlobalFlags } from './output.js';

/** What every command action gets: output, flags and the folder to act in. */
export interface CommandContext {
  out: Output;
  flags: GlobalFlags;
  /** -C <dir> resolved, or the current folder. */
  cwd: string;
  /** The command line as typed, URLs redacted (recorded in lineage and events). */
  argv: string[];
  /** True when the command may ask questions (stdin a TTY; no --yes, --json or CI). */
  canPrompt(yes?: boolean): boolean;
}

/** The options every command accepts (README, Reference: every command accepts --json, -C, -q, --no-color). */
const GLOBAL_OPTIONS: readonly [flags: string, description: string][] = [
  ['--json', 'print one JSON document on stdout'],
  ['-C <dir>', 'run as if started in <dir>'],
  ['-q, --quiet', 'print nothing but errors'],
  ['--no-color', 'no colour (NO_COLOR is honoured too)'],
];

/** Adds the global options `cmd` does not define itself, and lists them in its help. */
export function withGlobalOptions(cmd: Command): Command {
  for (const [flags, description] of GLOBAL_OPTIONS) {
    const long = flags.split(/[ ,]+/).find((f) => f.startsWith('-') && (f.startsWith('--') || !flags.includes('--')));
    if (!cmd.options.some((o) => o.long === long || o.short === long)) cmd.option(flags, description);
  }
  return cmd;
}

/**
 * Gives `cmd` and every subcommand under it (config ls, remote add, …) the global options,
 * and makes errors reach main.ts (exitOverride) rather than print and exit on their own.
 */
export function withGlobalOptionsDeep(cmd: Command): Command {
  withGlobalOptions(cmd).exitOverride().configureOutput({ outputError: () => undefined });
  for (const sub of cmd.commands) withGlobalOptionsDeep(sub);
  return cmd;
}

/**
 * Wraps a command body: builds the context from the parsed options, then calls
 * `body(ctx, options, ...positionals)`. Errors propagate to main.ts, which exits.
 */
export function action<O>(body: (ctx: CommandContext, opts: O, ...args: never[]) => Promise<void>) {
  return async (...received: unknown[]): Promise<void> => {
    const cmd = received[received.length - 1] as Command;
    assertNoFlagTakenAsValue(cmd);
    assertNoEmptyValue(cmd);
    const positionals = received.slice(0, -2);
    const flags = cmd.optsWithGlobals() as GlobalFlags & O;
    const out = new Output(flags, await colorFor('stdout', flags.color === false));
    const ctx: CommandContext = {
      out,
      flags,
      cwd: flags.C ? resolve(flags.C) : process.cwd(),
      // Recorded in lineage and audit events: URLs with credentials or signatures redacted.
      argv: redactArgv(process.argv.slice(2)),
      canPrompt: (yes?: boolean) => !yes && !flags.json && !process.env.CI && !!process.stdin.isTTY,
    };
    await (body as (ctx: CommandContext, opts: O, ...args: unknown[]) => Promise<void>)(ctx, flags, ...positionals);
  };
}

/** Options whose value is free text, where an empty one means "none" (`-m ""`), not a missing word. */
const FREE_TEXT_PLACEHOLDERS = new Set(['<msg>', '<text>', '<password>']);

/**
 * An unset shell variable (`--out "$OUT"`) reaches us as an empty word, which the commands
 * would read as "not given" (`--parent ""` dropped) or as "here" (`checkout --out ""` placed
 * the version in the work tree, `--data ""` recorded the whole folder): either way not what
 * was meant. An empty value is a usage error (exit 2), except for free text.
 */
function assertNoEmptyValue(cmd: Command): void {
  for (const o of cmd.options) {
    if (!o.required && !o.optional) continue;
    const placeholder = /[<[][^>\]]+[>\]]/.exec(o.flags)?.[0] ?? '<value>';
    if (FREE_TEXT_PLACEHOLDERS.has(placeholder)) continue;
    const value: unknown = cmd.getOptionValue(o.attributeName());
    if (!(Array.isArray(value) ? value : [value]).includes('')) continue;
    const name = o.long ?? o.short ?? o.flags;
    throw new UsageError('EMPTY_OPTION_VALUE', `option '${name} ${placeholder}' was given an empty value`, {
      hint: `give ${name} a value (an unset shell variable?), or leave the option out`,
    });
  }
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Commander gives an option that needs a value whatever word follows it, so `gc --remote
 * --dry-run` meant "the remote named --dry-run". A value that is one of the command's own
 * flags is the user's missing value: say so (exit 2) rather than act on it or report "no
 * remote named '--dry-run'".
 */
function assertNoFlagTakenAsValue(cmd: Command): void {
  const flags = new Set<string>(['-h', '--help']);
  for (const o of cmd.options) {
    if (o.long) flags.add(o.long);
    if (o.short) flags.add(o.short);
  }
  for (const o of cmd.options) {
    if (!o.required) continue;
    const value: unknown = cmd.getOptionValue(o.attributeName());
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string' || !flags.has(v)) continue;
      const name = o.long ?? o.short ?? o.flags;
      const placeholder = /<[^>]+>/.exec(o.flags)?.[0] ?? '<value>';
      throw new UsageError('OPTION_VALUE_MISSING', `option '${name} ${placeholder}' needs a value, but the next word is the option '${v}'`, {
        hint: `write the value right after ${name} (\`${name} ${placeholder}\`), then the other options`,
      });
    }
  }
}
