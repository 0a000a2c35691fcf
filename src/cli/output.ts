import type { ChalkInstance } from 'chalk';
import { ModelctlError } from '../errors.js';
import { isTerminal, writeStderr, writeStdout } from './std-write.js';

/** Flags every command accepts (README, Reference: every command accepts --json, -C, -q, --no-color). */
export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  C?: string;
}

/**
 * Where a command's output goes. With --json exactly one JSON document reaches stdout;
 * human text goes to stdout unless --quiet; warnings and progress go to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: ChalkInstance;

  constructor(flags: GlobalFlags, chalk: ChalkInstance) {
    this.json = !!flags.json;
    this.quiet = !!flags.quiet;
    this.color = chalk;
  }

  /** Progress bars and prompts only when stderr is a terminal and output is for people (asked when needed: cli/std-write.ts). */
  get interactiveStderr(): boolean {
    return !this.json && !this.quiet && isTerminal('stderr');
  }

  /** Prints a command's result: its JSON, or the human rendering. */
  result<T>(value: T, human: (value: T) => string | null): void {
    if (this.json) {
      writeStdout(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    if (this.quiet) return;
    const text = human(value);
    if (text) writeStdout(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A line for people on stdout (dropped with --json or --quiet). */
  info(text: string): void {
    if (!this.json && !this.quiet) writeStdout(`${text}\n`);
  }

  /** A warning on stderr (kept with --json, dropped with --quiet). */
  warn(text: string): void {
    if (!this.quiet) writeStderr(`${this.color.yellow('warning:')} ${text}\n`);
  }

  /** The `warnings` a result carries, if any, each as a warning. */
  warnAll(result: object): void {
    for (const w of (result as { warnings?: readonly string[] }).warnings ?? []) this.warn(w);
  }
}

/** Prints an error the docs/design.md §3 way: JSON on stderr with --json, else a message and hint. */
export function printError(err: ModelctlError, json: boolean, chalk: ChalkInstance | null): void {
  if (json) {
    const body: Record<string, unknown> = { code: err.code, message: err.message, hint: err.hint ?? null, exitCode: err.exitCode };
    if (err.data) body.data = err.data;
    writeStderr(`${JSON.stringify({ error: body })}\n`);
    return;
  }
  const red = chalk ? chalk.red : (s: string) => s;
  const dim = chalk ? chalk.dim : (s: string) => s;
  writeStderr(`${red('error:')} ${err.message}\n${err.hint ? `${dim('hint:')} ${err.hint}\n` : ''}`);
}
