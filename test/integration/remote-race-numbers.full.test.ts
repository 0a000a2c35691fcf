/**
 * Two repositories racing on one directory remote, as real processes: concurrent pushes of
 * new versions of one model (numbers never collide; the loser is renumbered) and tag
 * --push of one new name (exactly one creates it). test/helpers/remote-race.ts has the
 * rounds and the checks. MODELCTL_RACE_ROUNDS sets the rounds (default 4).
 */
import { describe, it } from 'vitest';
import { directoryRace, raceTags, raceVersionNumbers } from '../helpers/remote-race.js';

const ROUNDS = Number(process.env.MODELCTL_RACE_ROUNDS ?? 4);


describe('two repositories racing on one directory remote: numbers and tags', () => {
  it(`concurrent pushes of new versions of one model, ${ROUNDS} rounds: numbers never collide, the loser is renumbered`, async () => {
    const rounds = ROUNDS;
    const tally = await raceVersionNumbers(directoryRace(), rounds);
    console.log(`[remote-race directory] numbers: ${tally.rounds} rounds, ${tally.renumbered} versions renumbered, no collision`);
  }, 60_000 + ROUNDS * 10_000);

  it(`tag --push of one new name on different versions, ${ROUNDS} rounds: exactly one creates it, the loser exits 4 without the tag`, async () => {
    const tally = await raceTags(directoryRace(), ROUNDS);
    console.log(`[remote-race directory] tags: ${tally.rounds} rounds, one creator each (${tally.lostCreates} lost at the create itself)`);
  }, 90_000);
});
