/**
 * Two repositories racing on one Ceph RGW remote (conditional writes enforced: If-Match
 * for stages, If-None-Match for numbers): the same rounds and checks as the directory
 * suite (test/helpers/remote-race.ts). The barrier is the fault proxy, with no faults: it
 * parks both processes' PUTs of the contested key and forwards them together, so both
 * really race on the server. Skipped when radosgw is not installed. MODELCTL_RACE_ROUNDS
 * sets the stage rounds (default 3; numbers one fewer, tags 2).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Remote } from '../../src/remote/s3.js';
import type { Remote } from '../../src/remote/remote.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { proxyBarrier, raceStagePromotions, raceTags, raceVersionNumbers, type RaceRemote } from '../helpers/remote-race.js';
import { rgwSkipReason, startRgw, type RgwHandle } from '../helpers/rgw.js';

const skipReason = rgwSkipReason();
if (skipReason !== undefined) {
  console.warn(skipReason);
  it.skip(skipReason, () => undefined);
}

const ROUNDS = Number(process.env.MODELCTL_RACE_ROUNDS ?? 3);

describe.skipIf(skipReason !== undefined)('two repositories racing on one Ceph RGW remote', () => {
  let rgw: RgwHandle;
  let proxy: FaultProxy;
  const opened: Remote[] = [];
  beforeAll(async () => {
    rgw = await startRgw({ bucket: 'race' });
    proxy = await startFaultProxy({ upstream: rgw.endpoint, seed: 1, rate: 0 });
  }, 180_000);
  afterAll(async () => {
    for (const r of opened) await r.close();
    await proxy?.stop();
    await rgw?.stop();
  }, 60_000);

  async function rgwRace(): Promise<RaceRemote> {
    const prefix = `race-${randomBytes(4).toString('hex')}`;
    const remote = await createS3Remote({ bucket: rgw.bucket, prefix, endpoint: rgw.endpoint, region: rgw.region, credentials: rgw.credentials });
    opened.push(remote);
    return {
      url: `s3://${rgw.bucket}/${prefix}`,
      addArgs: ['--endpoint', proxy.endpoint],
      env: {
        AWS_ACCESS_KEY_ID: rgw.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_REGION: rgw.region,
        AWS_ENDPOINT_URL_S3: undefined,
        AWS_ENDPOINT_URL: undefined,
      },
      holdWrites: (key) => proxyBarrier(proxy, `${rgw.bucket}/${prefix}`, key),
      remote,
    };
  }

  it(`promote --push of one stage, ${ROUNDS} rounds: exactly one wins each round (If-Match), the loser exits 4 and changes nothing, no event lost`, async () => {
    const tally = await raceStagePromotions(await rgwRace(), ROUNDS);
    console.log(`[remote-race rgw] stage: ${tally.contested}/${tally.rounds} rounds contested, one winner each`);
    expect(tally.contested).toBe(ROUNDS);
  }, 60_000 + ROUNDS * 10_000);

  it(`concurrent pushes of new versions, both number claims forwarded together (If-None-Match): numbers never collide, the loser is renumbered`, async () => {
    const race = await rgwRace();
    const rounds = Math.max(2, ROUNDS - 1);
    const tally = await raceVersionNumbers(race, rounds, (model, n) => race.holdWrites(`models/${model}/numbers/${n}.json`));
    console.log(`[remote-race rgw] numbers: ${tally.rounds} rounds, ${tally.renumbered} versions renumbered, no collision`);
  }, 60_000 + ROUNDS * 10_000);

  it('tag --push of one new name, both creates forwarded together (If-None-Match): exactly one creates it, the loser exits 4 without the tag', async () => {
    const race = await rgwRace();
    const tally = await raceTags(race, 2, (key) => race.holdWrites(key));
    console.log(`[remote-race rgw] tags: ${tally.rounds} rounds, one creator each (${tally.lostCreates} lost at the create itself)`);
    expect(tally.lostCreates).toBe(2);
  }, 90_000);
});
