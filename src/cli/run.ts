import type * as ChildProcess from 'node:child_process';
import { createRequire } from 'node:module';
import { CommanderError, type Command } from 'commander';
import { ExitCode, InterruptedError, ModelctlError, fsError, isErrnoException } from '../errors.js';
import { interruptNote } from '../store/interrupt-note.js';
import { removeAllTempFiles } from '../store/temp-files.js';
import { foregroundChildRunning } from '../workspace/foreground-child.js';
import { printError } from './output.js';
import { writeStderr } from './std-write.js';
import { buildProgram, commandPath } from './program.js';
import { deliverStopSignal } from './stop-signal.js';

/**
 * Builds the commander program and runs it. Returns the exit code the process must end
 * with (docs/design.md §3) after reporting the failure, or null when the command finished
 * normally; main.ts, the only caller of process.exit, exits with it.
 */
export async function run(argv: string[], json: boolean): Promise<number | null> {
  let program: Command | undefined;
  try {
    program = await buildProgram(argv);
    await program.parseAsync(argv);
    return null;
  } catch (err) {
    return reportFailure(err, json, program);
  }
}

/**
 * What SIGINT/SIGTERM do: synchronously remove temp files and report; returns exit code 130,
 * or null when the signal is someone else's to act on (serve and watch stop themselves, see
 * stop-signal.ts; `run` and `reproduce` forward it to their command and end with 130 once it
 * stopped). Synchronous on purpose: nothing else may run before the process exits.
 */
export function interrupted(signal: NodeJS.Signals, json: boolean): number | null {
  if (deliverStopSignal(signal)) return null;
  if (foregroundChildRunning()) return null;
  removeAllTempFiles();
  printError(new InterruptedError(`interrupted by ${signal}; ${interruptNote() ?? 'nothing half-written was left'}`), json, null);
  return ExitCode.INTERRUPTED;
}

/** The exit status when stdout's reader goes away: what a shell reports for a process SIGPIPE ended. */
export const OUTPUT_CLOSED_EXIT = 141;

/** What a closed stdout (EPIPE) does: temp files removed synchronously, as for an interrupt, and nothing printed (nobody reads it). */
export function outputClosed(): void {
  removeAllTempFiles();
}

/**
 * What a stdout or stderr stream that failed otherwise (a full disk behind `> file`) does:
 * temp files removed, one line on stderr if it still takes one; returns the exit status
 * (fsError's: NO_SPACE is 4). A direct write's failure is thrown instead (std-write.ts) and
 * reported like any error.
 */
export function outputFailed(err: unknown, json: boolean): number {
  removeAllTempFiles();
  const e = fsError(err, 'writing the output');
  try {
    printError(e, json, null);
  } catch {
    /* stderr itself failed: the exit status is all that is left */
  }
  return e.exitCode;
}

/**
 * Called by main.ts right before an interrupted command exits. process.exit waits for every
 * thread of Node's I/O pool, and a thread blocked in the kernel (opening a FIFO, on a hung
 * network file system, in a DNS lookup) never comes back, so the process could outlive
 * Ctrl-C for ever. The SIGINT/SIGTERM handlers are dropped first (their default action ends
 * every thread at once); a detached `sh` then sends SIGINT after 700 ms unless this process
 * is gone by then (its end of the pipe closes, and it stops). So an interrupt ends the
 * process within a second: exit 130, or, with a thread stuck, death by SIGINT, which shells
 * report as 130 too.
 */
export function armExitDeadline(): void {
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  if (process.platform === 'win32') return;
  try {
    const script = 'p=$1; (sleep 0.7; kill -INT "$p" 2>/dev/null) & t=$!; read _; kill "$t" 2>/dev/null';
    // Required here, not imported: node:child_process pulls in net, streams and more, a few
    // ms of every start-up, and only an interrupted command needs it (synchronously).
    const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof ChildProcess;
    const watchdog = spawn('/bin/sh', ['-c', script, 'sh', String(process.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    watchdog.on('error', () => undefined);
    watchdog.unref();
  } catch {
    /* no sh: exit as usual */
  }
}

async function reportFailure(err: unknown, json: boolean, program: Command | undefined): Promise<number> {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' || err.exitCode === 0) {
      return 0;
    }
    // commander appends "(Did you mean x?)" to the message: that belongs in the hint.
    const [message, suggestion] = err.message.replace(/^error: /, '').split(/\n?\(Did you mean /);
    // Name the help of the command typed (`modelctl commit --help`), not a placeholder.
    const path = program ? commandPath(program, process.argv.slice(2)) : [];
    const help = `\`modelctl ${path.length ? `${path.join(' ')} ` : ''}--help\``;
    const hint = suggestion ? `did you mean ${suggestion.replace(/\?\)\s*$/, '')}? (see ${help})` : `see ${help}`;
    printError(new ModelctlError('USAGE', message.trim(), { exitCode: ExitCode.USAGE, hint }), json, await chalkFor(json));
    return ExitCode.USAGE;
  }
  let e: ModelctlError;
  if (err instanceof ModelctlError) e = err;
  else if (isErrnoException(err) && ['ENOSPC', 'EDQUOT', 'ENOENT', 'EACCES', 'EPERM'].includes(err.code ?? '')) e = fsError(err, err.path ?? 'file');
  else {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    e = new ModelctlError('INTERNAL', `unexpected failure: ${err instanceof Error ? err.message : String(err)}`, {
      exitCode: ExitCode.BUG,
      hint: 'this is a bug in modelctl; please report it with the command you ran and this output',
      data: process.env.MODELCTL_DEBUG ? { stack: detail } : undefined,
    });
    if (process.env.MODELCTL_DEBUG) writeStderr(`${detail}\n`);
  }
  removeAllTempFiles();
  printError(e, json, await chalkFor(json));
  return e.exitCode;
}

async function chalkFor(json: boolean) {
  if (json) return null;
  const { colorFor } = await import('./color.js');
  return colorFor('stderr', process.argv.includes('--no-color'));
}
