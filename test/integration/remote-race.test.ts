/**
 * Two repositories racing on one directory remote, as real processes: stage promotions
 * with --push where exactly one may win each round (the loser exits 4 and changes
 * nothing). Numbers and tags: remote-race-numbers.test.ts.
 * test/helpers/remote-race.ts has the rounds and the checks; here the barrier is the
 * directory backend's own key lock, held by the test until both writers wait on it.
 *
 * MODELCTL_RACE_ROUNDS sets the rounds (default 10).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDirectoryRemote } from '../../src/remote/directory.js';
import { directoryBarrier, raceStagePromotions, type RaceRemote } from '../helpers/remote-race.js';
import { tempDir } from '../helpers/temp-repo.js';

const ROUNDS = Number(process.env.MODELCTL_RACE_ROUNDS ?? 10);

function directoryRace(): RaceRemote {
  const root = join(tempDir(), 'registry');
  return {
    url: root,
    addArgs: [],
    env: {},
    holdWrites: (key) => directoryBarrier(root, key),
    remote: createDirectoryRemote({ root }),
  };
}

describe('two repositories racing on one directory remote', () => {
  it(`promote --push of one stage, ${ROUNDS} rounds: exactly one wins each round, the loser exits 4 and changes nothing, no event lost`, async () => {
    const tally = await raceStagePromotions(directoryRace(), ROUNDS);
    console.log(`[remote-race directory] stage: ${tally.contested}/${tally.rounds} rounds contested, one winner each`);
    expect(tally.contested).toBe(ROUNDS);
  }, 60_000 + ROUNDS * 10_000);

});
