import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NotFoundError, fsError } from '../errors.js';
import type { PeakMemory } from '../core/manifest.js';
import { enterForegroundChild } from './foreground-child.js';
import { sampleTreeMemory } from './process-tree-memory.js';

export interface RunCommandOptions {
  /** The program and its arguments (no shell: pass `sh -c '…'` for one). */
  command: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where the command's stdout goes: modelctl's stdout, its stderr (so --json keeps stdout for the document), or nowhere. Its stderr goes to modelctl's stderr (or nowhere with 'ignore'). */
  stdout: 'inherit' | 'stderr' | 'ignore';
  /** A file that receives the combined stdout and stderr (created or truncated), or null. */
  logFile: string | null;
}

/** How the command ended. */
export interface RunOutcome {
  /** The command's exit code; 128 + n when a signal n killed it (as shells report it). */
  exitCode: number;
  /** The signal that killed it, if one did. */
  signal: NodeJS.Signals | null;
  /** The SIGINT/SIGTERM modelctl received while it ran (and forwarded to it), or null. */
  interrupted: NodeJS.Signals | null;
  startedAt: string;
  durationMs: number;
  peakMemory: PeakMemory | null;
}

/** After the command exits, how long its output pipes may stay open (a daemon it left holding them). */
const PIPE_GRACE_MS = 1000;

/**
 * Runs a command to its end (docs/design.md §14). It gets its own process group, so a Ctrl-C
 * in the terminal reaches modelctl alone, which forwards SIGINT/SIGTERM to the whole group
 * exactly once per signal (the third one sends SIGKILL) and reports it in `interrupted` when the
 * command has stopped. Peak memory of the tree is sampled from /proc meanwhile. A program that
 * cannot be started → NotFoundError (3).
 */
export async function runCommand(opts: RunCommandOptions): Promise<RunOutcome> {
  const [program, ...args] = opts.command;
  const piped = opts.logFile !== null;
  let logFd: number | null = null;
  if (opts.logFile) {
    try {
      mkdirSync(dirname(opts.logFile), { recursive: true });
      logFd = openSync(opts.logFile, 'w', 0o644);
    } catch (err) {
      throw fsError(err, opts.logFile);
    }
  }
  // A terminal cannot be read from another process group; a pipe or file can be passed on.
  const stdin = process.stdin.isTTY ? 'ignore' : 'inherit';
  const outFd = opts.stdout === 'inherit' ? 1 : opts.stdout === 'stderr' ? 2 : 'ignore';
  const errFd = opts.stdout === 'ignore' ? 'ignore' : 2;
  const stdio: StdioOptions = piped ? [stdin, 'pipe', 'pipe'] : [stdin, outFd, errFd];
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const leave = enterForegroundChild();
  let interrupted: NodeJS.Signals | null = null;
  let forwarded = 0;
  let pid: number | undefined;
  const forward = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(pid as number), forwarded >= 3 ? 'SIGKILL' : signal);
    } catch {
      /* the group is gone already */
    }
  };
  // Listening before the spawn: a signal that arrives while it starts is passed on once it has.
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted ??= signal;
    forwarded++;
    if (pid !== undefined) forward(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env, stdio, detached: true });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    try {
      await spawned;
    } catch (err) {
      throw new NotFoundError('COMMAND_NOT_FOUND', `cannot start '${program}': ${(err as Error).message}`, {
        hint: 'check the command after `--` (it runs without a shell: use `sh -c "…"` for pipes and variables)',
        cause: err,
      });
    }
    pid = child.pid as number;
    if (interrupted) forward(interrupted);
    const sampler = sampleTreeMemory(pid);
    try {
      if (piped) {
        const echo = (target: 'stdout' | 'stderr') => (chunk: Buffer) => {
          if (logFd !== null) writeAll(logFd, chunk);
          if (opts.stdout === 'ignore') return;
          (opts.stdout === 'stderr' || target === 'stderr' ? process.stderr : process.stdout).write(chunk);
        };
        child.stdout?.on('data', echo('stdout'));
        child.stderr?.on('data', echo('stderr'));
      }
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
        child.once('exit', (c, s) => {
          sampler.sample();
          if (!piped) return resolve([c, s]);
          // Let the pipes drain; a process the command left behind may hold them open.
          const timer = setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            resolve([c, s]);
          }, PIPE_GRACE_MS);
          child.once('close', () => {
            clearTimeout(timer);
            resolve([c, s]);
          });
        });
      });
      const durationMs = Math.round(performance.now() - t0);
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      return { exitCode, signal, interrupted, startedAt, durationMs, peakMemory: sampler.stop() };
    } finally {
      sampler.stop();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    leave();
    if (logFd !== null) closeSync(logFd);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}
