/**
 * Two repositories racing on one directory remote, as real processes: stage promotions
 * with --push where exactly one may win each round (the loser exits 4 and changes
 * nothing); and a repository that fetches several moves at once must roll back along the
 * remote's chain. Numbers and tags: remote-race-numbers.test.ts.
 * test/helpers/remote-race.ts has the rounds and the checks; here the barrier is the
 * directory backend's own key lock, held by the test until both writers wait on it.
 *
 * MODELCTL_RACE_ROUNDS sets the rounds (default 10).
 */
import { describe, expect, it } from 'vitest';
import { directoryRace, expectOk, raceStagePromotions, twoRepositories } from '../helpers/remote-race.js';
import { runCliAsync } from './lifecycle-helpers.js';

const ROUNDS = Number(process.env.MODELCTL_RACE_ROUNDS ?? 10);


describe('two repositories racing on one directory remote', () => {
  it(`promote --push of one stage, ${ROUNDS} rounds: exactly one wins each round, the loser exits 4 and changes nothing, no event lost`, async () => {
    const tally = await raceStagePromotions(directoryRace(), ROUNDS);
    console.log(`[remote-race directory] stage: ${tally.contested}/${tally.rounds} rounds contested, one winner each`);
    expect(tally.contested).toBe(ROUNDS);
  }, 60_000 + ROUNDS * 10_000);


  it('a repository that fetches several stage moves at once rolls back along the remote\'s chain, not to its own stale holder', async () => {
    const race = directoryRace();
    const { a, b, ids } = await twoRepositories(race, 'chain', 'production'); // v1 holds production; b has fetched that
    const [v1, v2, v3] = ids as [string, string, string];
    const promote = (repo: string, id: string) => runCliAsync(repo, ['promote', `chain@${id}`, '--to', 'production', '--yes', '--push'], { timeoutMs: 60_000 });
    expectOk(await promote(a, v2), 'promote v2');
    expectOk(await promote(a, v3), 'promote v3');
    // b saw v1 last; one fetch brings both moves.
    expectOk(await runCliAsync(b, ['fetch']), 'fetch');
    const dry = await runCliAsync(b, ['rollback', 'chain', '--stage', 'production', '--dry-run', '--json']);
    expectOk(dry, 'rollback --dry-run');
    expect(JSON.parse(dry.stdout).version.id, 'rollback must go back to v2, which held the stage before v3').toBe(v2);
    expectOk(await runCliAsync(b, ['rollback', 'chain', '--stage', 'production', '--push', '--yes'], { timeoutMs: 60_000 }), 'rollback --push');
    // a fetches b's rollback; walking back once more reaches v1 there too.
    expectOk(await runCliAsync(a, ['fetch']), 'fetch');
    const dryA = await runCliAsync(a, ['rollback', 'chain', '--stage', 'production', '--dry-run', '--json']);
    expectOk(dryA, 'rollback --dry-run');
    expect(JSON.parse(dryA.stdout)).toMatchObject({ previous: { id: v2 }, version: { id: v1 } });
    for (const repo of [a, b]) expectOk(await runCliAsync(repo, ['history', '--verify']), 'history --verify');
  }, 90_000);
});
