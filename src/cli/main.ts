import type { Command } from 'commander';
import { MODELCTL_VERSION } from '../version.js';

// Everything but the version is imported after the --version fast path (issue 5: start-up).
type Errors = typeof import('../errors.js');
type TempFiles = typeof import('../store/temp-files.js');
type OutputModule = typeof import('./output.js');
type StopSignal = typeof import('./stop-signal.js');
type ForegroundChild = typeof import('../workspace/foreground-child.js');
let errors: Errors;
let stopSignal: StopSignal;
let tempFiles: TempFiles;
let output: OutputModule;
let foreground: ForegroundChild;

/**
 * The CLI entry: builds the commander program, runs it, and maps every failure to its
 * docs/design.md §3 exit code. The only place in modelctl that calls process.exit.
 */
export async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  // Fast path: `modelctl --version` loads nothing else (start-up target in issue 5).
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${MODELCTL_VERSION}\n`);
    return;
  }
  // `--version --json` is one JSON document like every other --json output.
  if (args.some((a) => a === '--version' || a === '-V') && args.every((a) => ['--version', '-V', '--json', '--no-color', '-q', '--quiet'].includes(a))) {
    process.stdout.write(args.includes('--json') ? `${JSON.stringify({ version: MODELCTL_VERSION, node: process.version })}\n` : `${MODELCTL_VERSION}\n`);
    return;
  }
  [errors, tempFiles, output, stopSignal, foreground] = await Promise.all([
    import('../errors.js'),
    import('../store/temp-files.js'),
    import('./output.js'),
    import('./stop-signal.js'),
    import('../workspace/foreground-child.js'),
  ]);
  // Words after `--` belong to the command `modelctl run` runs, not to modelctl.
  const ownArgs = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const json = ownArgs.includes('--json');
  installSignalHandlers(json);
  let program: Command | undefined;
  try {
    const { buildProgram } = await import('./program.js');
    program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (err) {
    await exitWithError(err, json, program);
  }
}

function installSignalHandlers(json: boolean): void {
  const { ExitCode, InterruptedError } = errors;
  const { removeAllTempFiles } = tempFiles;
  const { printError } = output;
  const onSignal = (signal: NodeJS.Signals) => {
    // serve and watch stop themselves (cli/stop-signal.ts); a second signal ends them here.
    if (stopSignal.deliverStopSignal(signal)) return;
    // `run` and `reproduce` forward the signal to their command and end with 130 once it stopped.
    if (foreground.foregroundChildRunning()) return;
    // Synchronous on purpose: remove temp files, report, exit before anything else runs.
    removeAllTempFiles();
    printError(new InterruptedError(`interrupted by ${signal}; nothing half-written was left`), json, null);
    process.exit(ExitCode.INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function exitWithError(err: unknown, json: boolean, program: Command | undefined): Promise<never> {
  const { CommanderError } = await import('commander');
  const { ExitCode, ModelctlError, fsError, isErrnoException } = errors;
  const { removeAllTempFiles } = tempFiles;
  const { printError } = output;
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' || err.exitCode === 0) {
      process.exit(0);
    }
    // commander appends "(Did you mean x?)" to the message: that belongs in the hint.
    const [message, suggestion] = err.message.replace(/^error: /, '').split(/\n?\(Did you mean /);
    // Name the help of the command typed (`modelctl commit --help`), not a placeholder.
    const path = program ? (await import('./program.js')).commandPath(program, process.argv.slice(2)) : [];
    const help = `\`modelctl ${path.length ? `${path.join(' ')} ` : ''}--help\``;
    const hint = suggestion ? `did you mean ${suggestion.replace(/\?\)\s*$/, '')}? (see ${help})` : `see ${help}`;
    printError(new ModelctlError('USAGE', message.trim(), { exitCode: ExitCode.USAGE, hint }), json, await chalkFor(json));
    process.exit(ExitCode.USAGE);
  }
  let e: InstanceType<typeof ModelctlError>;
  if (err instanceof ModelctlError) e = err;
  else if (isErrnoException(err) && ['ENOSPC', 'EDQUOT', 'ENOENT', 'EACCES', 'EPERM'].includes(err.code ?? '')) e = fsError(err, err.path ?? 'file');
  else {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    e = new ModelctlError('INTERNAL', `unexpected failure: ${err instanceof Error ? err.message : String(err)}`, {
      exitCode: ExitCode.BUG,
      hint: 'this is a bug in modelctl; please report it with the command you ran and this output',
      data: process.env.MODELCTL_DEBUG ? { stack: detail } : undefined,
    });
    if (process.env.MODELCTL_DEBUG) process.stderr.write(`${detail}\n`);
  }
  removeAllTempFiles();
  printError(e, json, await chalkFor(json));
  process.exit(e.exitCode);
}

async function chalkFor(json: boolean) {
  if (json) return null;
  const { colorFor } = await import('./color.js');
  return colorFor(process.stderr, process.argv.includes('--no-color'));
}
