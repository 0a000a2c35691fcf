/**
 * A write-once audit trail on Ceph RGW (issue 19, docs/design.md §16): with
 * `events_retention` on a remote whose bucket has Object Lock enabled, every event is
 * written in compliance mode, `history --verify --remote` reports it, and the bucket's owner
 * cannot delete a locked event. A bucket without Object Lock is refused, not pretended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgwSkipReason, startRgw, type RgwHandle } from '../helpers/rgw.js';
import { runCli, tempRepo } from '../helpers/temp-repo.js';
import { bytes, commitFiles } from './remote-gc-helpers.js';

const skip = rgwSkipReason();
let rgw: RgwHandle | undefined;

async function client(h: RgwHandle) {
  const sdk = await import('@aws-sdk/client-s3');
  return { sdk, s3: new sdk.S3Client({ endpoint: h.endpoint, region: h.region, forcePathStyle: true, credentials: h.credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }) };
}

beforeAll(async () => {
  if (skip !== undefined) return;
  rgw = await startRgw({ bucket: 'modelctl-unlocked' });
  const { sdk, s3 } = await client(rgw);
  try {
    await s3.send(new sdk.CreateBucketCommand({ Bucket: 'modelctl-locked', ObjectLockEnabledForBucket: true }));
  } finally {
    s3.destroy();
  }
}, 180_000);
afterAll(async () => {
  await rgw?.stop();
}, 60_000);

describe.skipIf(skip !== undefined)('write-once audit trail on Ceph RGW (S3 Object Lock)', () => {
  const env = () => ({ AWS_ACCESS_KEY_ID: rgw!.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw!.credentials.secretAccessKey, AWS_REGION: rgw!.region });

  it('writes events under compliance-mode lock, reports it, and the owner cannot delete them', async () => {
    const repo = tempRepo();
    expect(runCli(repo, ['remote', 'add', 'origin', 's3://modelctl-locked/reg', '--endpoint', rgw!.endpoint, '--events-retention', '1d', '--default'], { env: env() }).code).toBe(0);
    commitFiles(repo, 'm', { 'w.bin': bytes(200_000, 1) });
    expect(runCli(repo, ['tag', 'm@v1', 'golden']).code).toBe(0);
    const p = runCli(repo, ['push'], { env: env() });
    expect(p.code, p.stderr).toBe(0);
    const h = runCli(repo, ['history', '--verify', '--remote', 'origin', '--json'], { env: env() });
    expect(h.code, h.stderr).toBe(0);
    const trail = h.json().remoteTrail;
    expect(trail).toMatchObject({ supported: true, requested: true, modes: ['COMPLIANCE'] });
    expect(trail.events).toBeGreaterThanOrEqual(2);
    expect(trail.locked).toBe(trail.events);
    expect(Date.parse(trail.earliestRetainUntil)).toBeGreaterThan(Date.now() + 23 * 3_600_000);

    // The store enforces it: deleting the locked version of an event is refused.
    const { sdk, s3 } = await client(rgw!);
    try {
      const listed = await s3.send(new sdk.ListObjectVersionsCommand({ Bucket: 'modelctl-locked', Prefix: 'reg/models/m/events/' }));
      const v = listed.Versions![0]!;
      await expect(s3.send(new sdk.DeleteObjectCommand({ Bucket: 'modelctl-locked', Key: v.Key!, VersionId: v.VersionId! }))).rejects.toThrow();
      const still = await s3.send(new sdk.GetObjectRetentionCommand({ Bucket: 'modelctl-locked', Key: v.Key!, VersionId: v.VersionId! }));
      expect(still.Retention?.Mode).toBe('COMPLIANCE');
    } finally {
      s3.destroy();
    }

    // A tagged version stays: rm refuses it (exit 5).
    expect(runCli(repo, ['rm', 'm@v1', '--remote', 'origin', '--reason', 'r'], { env: env() }).code).toBe(5); // tagged
  });

  it('refuses events_retention on a bucket without Object Lock (exit 2) instead of pretending', () => {
    const repo = tempRepo();
    expect(runCli(repo, ['remote', 'add', 'origin', `s3://${rgw!.bucket}/reg`, '--endpoint', rgw!.endpoint, '--events-retention', '7y', '--default'], { env: env() }).code).toBe(0);
    commitFiles(repo, 'm', { 'w.bin': bytes(200_000, 2) });
    const p = runCli(repo, ['push', '--json'], { env: env() });
    expect(p.code, p.stderr).toBe(2);
    expect(p.error().code).toBe('OBJECT_LOCK_UNAVAILABLE');
  });

  it('reports a trail without lock as not write-once', () => {
    const repo = tempRepo();
    expect(runCli(repo, ['remote', 'add', 'origin', `s3://${rgw!.bucket}/plain`, '--endpoint', rgw!.endpoint, '--default'], { env: env() }).code).toBe(0);
    commitFiles(repo, 'm', { 'w.bin': bytes(200_000, 3) });
    expect(runCli(repo, ['push'], { env: env() }).code).toBe(0);
    const h = runCli(repo, ['history', '--verify', '--remote', 'origin', '--json'], { env: env() });
    expect(h.code, h.stderr).toBe(0);
    expect(h.json().remoteTrail).toMatchObject({ supported: true, requested: false, locked: 0 });
  });
});
