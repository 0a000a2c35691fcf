/**
 * The CLI entry (dist/cli/main.js, loaded by bin/modelctl.js) and the only place in
 * modelctl that calls process.exit. It imports nothing at the top: `modelctl --version` is
 * answered from the version the build wrote into this file, and everything else is one
 * import of run.ts, which builds and runs the commander program and maps failures to the
 * exit codes of docs/design.md §3. (std-write.ts, imported here, writes stdout and stderr
 * without creating Node's stream objects.)
 */
import { ModelctlError, isErrnoException } from '../errors.js';
import { watchStdio, writeStderr, writeStdout } from './std-write.js';

declare const __MODELCTL_BUILD__: { version: string } | undefined;

/** Runs the command in `argv` (process.argv) to completion; exits the process on failure. */
export async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  // `--version` (and `--version --json`, one JSON document like every other --json output).
  if (args.some((a) => a === '--version' || a === '-V') && args.every((a) => ['--version', '-V', '--json', '--no-color', '-q', '--quiet'].includes(a))) {
    const version = typeof __MODELCTL_BUILD__ === 'undefined' ? (await import('../version.js')).MODELCTL_VERSION : __MODELCTL_BUILD__.version;
    try {
      writeStdout(args.includes('--json') ? `${JSON.stringify({ version, node: process.version })}\n` : `${version}\n`);
    } catch (err) {
      // `--version > file` on a full disk: the error std-write.ts made, without a stack trace.
      if (!(err instanceof ModelctlError)) throw err;
      writeStderr(`error: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    return;
  }
  const cli = await import('./run.js');
  // Words after `--` belong to the command `modelctl run` runs, not to modelctl.
  const ownArgs = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const json = ownArgs.includes('--json');
  const onSignal = (signal: NodeJS.Signals) => {
    const code = cli.interrupted(signal, json);
    if (code === null) return;
    cli.armExitDeadline();
    process.exit(code);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The reader of stdout went away (`modelctl log | head -1`): stop at once and quietly, as
  // git does when SIGPIPE ends it, with the status a shell reports then (141 = 128 + SIGPIPE),
  // never 0: the command may not have finished (README, Exit codes).
  const onOutputError = (err: NodeJS.ErrnoException) => {
    cli.armExitDeadline();
    if (!isErrnoException(err, 'EPIPE')) process.exit(cli.outputFailed(err, json)); // `> file` on a full disk
    cli.outputClosed();
    process.exit(cli.OUTPUT_CLOSED_EXIT);
  };
  // stdout and stderr, or `2>&1 | head`, or progress piped on its own; the streams are not
  // created for it (std-write.ts).
  watchStdio(onOutputError);
  const code = await cli.run(argv, json);
  if (code !== null) process.exit(code);
}
