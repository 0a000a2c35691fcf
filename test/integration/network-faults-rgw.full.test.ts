/**
 * The network-fault scenario against Ceph RGW, a store that checks SigV4 signatures and
 * enforces conditional writes: the proxy forwards the Host header unchanged, so signatures
 * hold, and a conditional PUT whose answer is lost after the server applied it (then
 * retried into a 412) must still count as won. Skipped when radosgw is not installed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS, formatTally, startFaultProxy } from '../helpers/fault-proxy.js';
import { MiB, addTally, emptyTally, expectOk, pushPullThroughFaults, s3Env } from '../helpers/fault-scenario.js';
import { rgwSkipReason, startRgw, type RgwHandle } from '../helpers/rgw.js';
import { pseudoRandomBytes, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCliAsync } from './lifecycle-helpers.js';

const skipReason = rgwSkipReason();
if (skipReason !== undefined) {
  console.warn(skipReason);
  it.skip(skipReason, () => undefined);
}

// RGW (memstore, on the same 2 cores) is slower than s3rver: by default half the s3rver
// suite's size; MODELCTL_FAULT_BYTES, when set, applies as is (1073741824: the 1 GiB run).
const BYTES = process.env.MODELCTL_FAULT_BYTES !== undefined ? Number(process.env.MODELCTL_FAULT_BYTES) : 32 * MiB;
const SEED = Number(process.env.MODELCTL_FAULT_SEED ?? 20261128) + 100;
const RATE = Number(process.env.MODELCTL_FAULT_RATE ?? 0.08);
const COMMAND_TIMEOUT_MS = Math.max(120_000, (BYTES / MiB) * 3_000);

describe.skipIf(skipReason !== undefined)('push and pull through a faulty network (Ceph RGW)', () => {
  let rgw: RgwHandle;
  const totals = emptyTally();
  beforeAll(async () => {
    rgw = await startRgw({ bucket: 'faulty' });
  }, 180_000);
  afterAll(async () => {
    console.log(`[network-faults rgw] ${formatTally(totals)}`);
    await rgw?.stop();
  }, 60_000);

  it(`seed ${SEED}: ${BYTES} bytes pushed and pulled byte-identical through random faults`, async () => {
    const proxy = await startFaultProxy({ upstream: rgw.endpoint, seed: SEED, rate: RATE, weights: { truncate: 2, 'reset-mid-body': 2, 'reset-mid-request': 2 } });
    try {
      const line = await pushPullThroughFaults({ proxy, target: rgw, prefix: `trial-${randomBytes(3).toString('hex')}`, bytes: BYTES, seed: SEED, commandTimeoutMs: COMMAND_TIMEOUT_MS });
      console.log(`[network-faults rgw] seed ${SEED}: ${line}`);
      expect(proxy.tally().total).toBeGreaterThan(0);
    } finally {
      addTally(totals, proxy);
      await proxy.stop();
    }
  }, COMMAND_TIMEOUT_MS * 6);

  it('conditional writes whose answers are lost after the store applied them still count as won', async () => {
    // Every first answer to a write of the marker, a number, a tag, a stage or an event is
    // reset after the store applied it: the retry then meets its own write (412).
    const proxy = await startFaultProxy({
      upstream: rgw.endpoint,
      seed: SEED + 1,
      rate: 1,
      maxConsecutive: 1,
      weights: Object.fromEntries(FAULT_KINDS.map((k) => [k, k === 'reset-after-headers' ? 1 : 0])),
      eligible: (r) => r.method === 'PUT' && /\/(MODELCTL\.json|models\/.*)$/.test(r.url.split('?')[0] ?? ''),
    });
    try {
      const url = `s3://faulty/lost-${randomBytes(3).toString('hex')}`;
      const a = tempRepo();
      writeFile(a, 'm/w.bin', pseudoRandomBytes(2 * MiB, 7));
      expectOk(await runCliAsync(a, ['commit', 'lost', 'm', '--tag', 'first']), 'commit');
      expectOk(await runCliAsync(a, ['promote', 'lost@v1', '--to', 'staging', '--yes']), 'promote');
      expectOk(await runCliAsync(a, ['remote', 'add', 'origin', url, '--endpoint', proxy.endpoint, '--default']), 'remote add');
      const pushed = await runCliAsync(a, ['push', '--json'], { env: s3Env(rgw), timeoutMs: 60_000 });
      expectOk(pushed, 'push');
      const out = JSON.parse(pushed.stdout);
      expect(out.versions).toEqual([expect.objectContaining({ ref: 'lost@v1', number: 1 })]);
      expect(out.renumbered).toEqual([]);
      expect(out.tags).toEqual([expect.objectContaining({ tag: 'first', status: 'created' })]);
      expect(out.stages).toEqual([expect.objectContaining({ stage: 'staging', status: 'moved' })]);
      expect(proxy.tally()['reset-after-headers']).toBeGreaterThanOrEqual(4);

      // promote --push and tag --push: the compare-and-swap itself loses its answer.
      const before = proxy.tally()['reset-after-headers'];
      const promoted = await runCliAsync(a, ['promote', 'lost@v1', '--to', 'production', '--yes', '--push', '--json'], { env: s3Env(rgw), timeoutMs: 60_000 });
      expectOk(promoted, 'promote --push');
      expectOk(await runCliAsync(a, ['tag', 'lost@v1', 'second', '--push'], { env: s3Env(rgw), timeoutMs: 60_000 }), 'tag --push');
      expect(proxy.tally()['reset-after-headers'] - before).toBeGreaterThanOrEqual(3);

      // Another repository sees exactly that state.
      const b = tempRepo();
      expectOk(await runCliAsync(b, ['remote', 'add', 'origin', url, '--endpoint', rgw.endpoint, '--default']), 'remote add');
      expectOk(await runCliAsync(b, ['fetch'], { env: s3Env(rgw) }), 'fetch');
      const show = await runCliAsync(b, ['show', 'lost@staging', '--json']);
      expectOk(show, 'show');
      expect(JSON.parse(show.stdout).version).toMatchObject({ number: 1, tags: ['first', 'second'], stages: ['production', 'staging'] });
      expectOk(await runCliAsync(b, ['history', '--verify']), 'history --verify');
    } finally {
      addTally(totals, proxy);
      await proxy.stop();
    }
  }, 120_000);
});
