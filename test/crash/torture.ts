/**
 * `npm run torture`: the crash harness at full count. 200 trials by default (40 per
 * command), files of tens of MiB; prints the tally and exits 1 on any failure.
 *   MODELCTL_TORTURE_TRIALS=200  total trials (spread evenly over the commands)
 *   MODELCTL_TORTURE_SEED=n      replay a run
 *   MODELCTL_TORTURE_COMMANDS=commit,push   only these
 *   MODELCTL_CRASH_BIN=/path/bin/modelctl.js   the CLI to torture (default: this checkout's bin/)
 */
import { CRASH_COMMANDS, formatTally, runCrashTrials, type CrashCommand } from './harness.js';

const commands = (process.env.MODELCTL_TORTURE_COMMANDS?.split(',').filter(Boolean) as CrashCommand[] | undefined) ?? CRASH_COMMANDS;
const total = Number(process.env.MODELCTL_TORTURE_TRIALS ?? 200);
const seed = process.env.MODELCTL_TORTURE_SEED ? Number(process.env.MODELCTL_TORTURE_SEED) : undefined;

const tally = await runCrashTrials({
  trialsPerCommand: Math.ceil(total / commands.length),
  commands,
  files: 4,
  fileMiB: 6,
  seed,
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`\n${formatTally(tally)}\n`);
if (tally.failures.length) {
  process.stdout.write(`\n${tally.failures.length} failing trial(s); replay with MODELCTL_TORTURE_SEED=${tally.seed}\n`);
  process.exit(1);
}
