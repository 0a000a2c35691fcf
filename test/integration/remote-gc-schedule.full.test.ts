/**
 * Push and remote gc interleaved at every step (remote-gc-schedule.ts), on a directory
 * remote and on Ceph RGW (started for this file; skipped where radosgw is not installed,
 * unless MODELCTL_TEST_RGW=1 makes a missing one fail). ~2.5 minutes per backend.
 */
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { rgwSkipReason, startRgw, type RgwHandle } from '../helpers/rgw.js';
import { tempDir } from '../helpers/temp-repo.js';
import type { RemoteTarget } from './remote-gc-helpers.js';
import { defineGcSchedule } from './remote-gc-schedule.js';

// Short, so a gc held at a barrier past its lease gives up within the test; long enough that
// the second gc of a case reads the holder's state within a lease on a slow, loaded 2-core VM
// (at 1.5 s, two RGW cases of a full run there saw the second gc take over: exit 0, not 4).
const LEASE = { MODELCTL_REMOTE_GC_LEASE_MS: '5000' };

defineGcSchedule('directory', async () => ({ target: { url: join(tempDir('modelctl-remote-'), 'r'), env: LEASE, addArgs: [] }, done: async () => undefined }));

const skip = rgwSkipReason();
let rgw: RgwHandle | undefined;
let prefix = 0;
beforeAll(async () => {
  if (skip === undefined) rgw = await startRgw({ bucket: 'modelctl-gc' });
}, 180_000);
afterAll(async () => {
  await rgw?.stop();
}, 60_000);

/** A fresh prefix of the RGW bucket for each case. */
export function rgwTarget(h: RgwHandle, name: string): RemoteTarget {
  return {
    url: `s3://${h.bucket}/${name}`,
    env: { ...LEASE, AWS_ACCESS_KEY_ID: h.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: h.credentials.secretAccessKey, AWS_REGION: h.region },
    addArgs: ['--endpoint', h.endpoint],
  };
}

defineGcSchedule('Ceph RGW', async () => ({ target: rgwTarget(rgw!, `schedule-${++prefix}-${Date.now()}`), done: async () => undefined }), { skip });
