import { describe, expect, it } from 'vitest';
import { formatTally, runCrashTrials } from './harness.js';

// The reduced CI count of the crash harness: two kill -9 trials per command (commit, push,
// pull, gc, promote --push) on a few MiB; `npm run torture` runs 200 on tens of MiB.
// MODELCTL_CRASH_TRIALS raises the per-command count here too.
describe('kill -9 at a random moment', () => {
  it('leaves verify clean, the index in agreement with the store, finished versions intact, and the command re-runnable', async () => {
    const tally = await runCrashTrials({
      trialsPerCommand: Number(process.env.MODELCTL_CRASH_TRIALS ?? 2),
      files: 3,
      fileMiB: 1.5,
      seed: process.env.MODELCTL_TORTURE_SEED ? Number(process.env.MODELCTL_TORTURE_SEED) : undefined,
    });
    const report = formatTally(tally);
    console.log(report);
    expect(tally.failures, `${report}\n${JSON.stringify(tally.failures, null, 2)}`).toEqual([]);
    expect(tally.trials).toBeGreaterThanOrEqual(10);
  }, 240_000);
});
