import type { ChalkInstance } from 'chalk';
import { ModelctlError } from '../errors.js';

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
  /** Progress bars and prompts only when stderr is a terminal and output is for people. */
  readonly interactiveStderr: boolean;

  constructor(flags: GlobalFlags, chalk: ChalkInstance) {
    this.json = !!flags.json;
    this.quiet = !!flags.quiet;
    this.color = chalk;
    this.interactiveStderr = !this.json && !this.quiet && !!process.stderr.isTTY;
  }

  /** Prints a command's result: its JSON, or the human rendering. */
  result<T>(value: T, human: (value: T) => string | null): void {
    if (this.json) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    if (this.quiet) return;
    const text = human(value);
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A line for people on stdout (dropped with --json or --quiet). */
  info(text: string): void {
    if (!this.json && !this.quiet) process.stdout.write(`${text}\n`);
  }

  /** A warning on stderr (kept with --json, dropped with --quiet). */
  warn(text: string): void {
    if (!this.quiet) process.stderr.write(`${this.color.yellow('warning:')} ${text}\n`);
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
    process.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return;
  }
  const red = chalk ? chalk.red : (s: string) => s;
  const dim = chalk ? chalk.dim : (s: string) => s;
  process.stderr.write(`${red('error:')} ${err.message}\n`);
  if (err.hint) process.stderr.write(`${dim('hint:')} ${err.hint}\n`);
}
