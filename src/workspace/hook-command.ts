import { spawn } from 'node:child_process';

/** What running a command gave. */
export interface CommandOutcome {
  exitCode: number;
  /** stdout and stderr interleaved, capped at MAX_OUTPUT characters. */
  output: string;
}

const MAX_OUTPUT = 64 * 1024;

/**
 * Runs a deploy hook (`watch --exec`): `command` through `/bin/sh -c` in `cwd`, with `env` added to this process's
 * environment and `input` on stdin; each output line is also handed to `onLine` as it comes
 * (so a deployer's log shows the hook live) and the output is kept for the failure report.
 * Unlike workspace/run-command.ts (modelctl run: a foreground program owning the terminal), it
 * runs in the background of a daemon, in a process group of its own. Resolves when it exits; exit code 127 when it
 * could not start, 128+n when killed by signal n. Never throws.
 */
export function runShellCommand(command: string, opts: { cwd: string; env: Record<string, string>; input: string; onLine?: (line: string) => void }): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    // Its own process group: a Ctrl-C at the terminal signals the whole foreground group, and
    // the hook must run to its end while watch stops (README, Watch: SIGTERM/SIGINT).
    const child = spawn('/bin/sh', ['-c', command], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let output = '';
    let partial = '';
    const collect = (b: Buffer) => {
      const text = b.toString('utf8');
      if (output.length < MAX_OUTPUT) output += text.slice(0, MAX_OUTPUT - output.length);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.onLine?.(l);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => resolve({ exitCode: 127, output: `${output}${err.message}` }));
    child.on('close', (code, signal) => {
      if (partial) opts.onLine?.(partial);
      resolve({ exitCode: code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1), output });
    });
    child.stdin.on('error', () => undefined); // the command need not read its stdin
    child.stdin.end(opts.input);
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}
