import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Remote } from '../../src/remote/s3.js';
import { openRemote } from '../../src/remote/open-remote.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { collect, defineRemoteContract, expectCode } from './remote-contract.js';
import { defineLeanGetChecks } from './lean-get.js';

let server: S3rverHandle;

beforeAll(async () => {
  server = await startS3rver();
});
afterAll(async () => {
  await server?.stop();
});

const open = (prefix: string, pageSize?: number) =>
  createS3Remote({
    bucket: server.bucket,
    prefix,
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    ...(pageSize === undefined ? {} : { pageSize }),
  });

defineRemoteContract('s3rver', () => ({
  open: (opts) => open(`t-${randomBytes(6).toString('hex')}/`, opts?.pageSize),
  // s3rver ignores If-None-Match/If-Match (S3-SERVERS.md); the probe must notice.
  expectConditionalWrites: false,
  verifiesChecksums: false,
}));

// s3rver does not check signatures: the RGW suite proves them right.
defineLeanGetChecks('s3rver', () => server, { checksSignatures: false });

describe('S3 backend on s3rver', () => {
  it('works with an empty prefix and with a nested one, listing keys relative to it', async () => {
    const nested = await open('team/models/');
    await nested.put('MODELCTL.json', Buffer.from('{}'));
    expect(nested.displayUrl).toBe(`s3://${server.bucket}/team/models`);
    const root = await open('');
    expect(await root.head('team/models/MODELCTL.json')).not.toBeNull();
    expect((await collect(nested.list(''))).map((o) => o.key)).toEqual(['MODELCTL.json']);
    await Promise.all([nested.close(), root.close()]);
  });

  it('reports a missing bucket as REMOTE_BUCKET_NOT_FOUND (exit 3)', async () => {
    const remote = await createS3Remote({ bucket: 'no-such-bucket', endpoint: server.endpoint, credentials: server.credentials });
    const err = await expectCode(remote.put('x', Buffer.from('x')), 'REMOTE_BUCKET_NOT_FOUND');
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('PUT x');
    await expectCode(remote.get('x'), 'REMOTE_BUCKET_NOT_FOUND');
    await remote.close();
  });

  it('opens through openRemote with --endpoint (credentials from the environment)', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    try {
      const remote = await openRemote({ url: `s3://${server.bucket}/via-open`, endpoint: server.endpoint });
      await remote.put('k', Buffer.from('v'));
      expect((await remote.get('k'))!.body.toString()).toBe('v');
      await remote.close();
    } finally {
      restoreEnv('AWS_ACCESS_KEY_ID', saved.id);
      restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret);
    }
  });

  it('honours AWS_ENDPOINT_URL_S3', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
    try {
      const remote = await createS3Remote({ bucket: server.bucket, prefix: 'via-env/', credentials: server.credentials });
      await remote.put('k', Buffer.from('v'));
      expect((await remote.head('k'))!.size).toBe(1);
      await remote.close();
    } finally {
      restoreEnv('AWS_ENDPOINT_URL_S3', saved);
    }
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
