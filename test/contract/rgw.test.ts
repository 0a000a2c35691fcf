import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Remote } from '../../src/remote/s3.js';
import { rgwSkipReason, startRgw, type RgwHandle } from '../helpers/rgw.js';
import { defineRemoteContract, expectCode } from './remote-contract.js';
import { defineLeanGetChecks } from './lean-get.js';

const skipReason = rgwSkipReason();

if (skipReason !== undefined) {
  // Visible in every reporter, instead of a silently missing backend.
  console.warn(skipReason);
  it.skip(skipReason, () => undefined);
}

describe.skipIf(skipReason !== undefined)('Ceph RGW (memstore, started by this file)', () => {
  let server: RgwHandle;

  beforeAll(async () => {
    server = await startRgw();
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  const open = (prefix: string, opts: { pageSize?: number; secret?: string } = {}) =>
    createS3Remote({
      bucket: server.bucket,
      prefix,
      endpoint: server.endpoint,
      region: server.region,
      credentials: { ...server.credentials, ...(opts.secret === undefined ? {} : { secretAccessKey: opts.secret }) },
      ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }),
      // Refusals are not retried, but keep a broken setup from taking long either.
      maxAttempts: 3,
    });

  defineRemoteContract('Ceph RGW', () => ({
    open: (opts) => open(`t-${randomBytes(6).toString('hex')}/`, opts),
    openWithBadSecret: async () => {
      const secret = `bad-${randomBytes(16).toString('hex')}`;
      return { remote: await open('bad-secret/', { secret }), secret };
    },
    expectConditionalWrites: true,
    // RGW 16 (pacific) ignores x-amz-checksum-sha256.
    verifiesChecksums: false,
  }));

  defineLeanGetChecks('Ceph RGW', () => server, { checksSignatures: true });

  it('reports a wrong secret as REMOTE_BAD_CREDENTIALS with a hint, without the secret', async () => {
    const secret = `wrong-${randomBytes(16).toString('hex')}`;
    const remote = await open('creds/', { secret });
    const err = await expectCode(remote.put('chunks/abc', Buffer.from('x')), 'REMOTE_BAD_CREDENTIALS');
    expect(err.exitCode).toBe(7);
    expect(err.message).toMatch(/^PUT chunks\/abc: /);
    expect(err.message).toContain('SignatureDoesNotMatch');
    expect(err.hint).toMatch(/AWS_SECRET_ACCESS_KEY/);
    expect(`${err.message} ${err.hint} ${JSON.stringify(err.data)}`).not.toContain(secret);
    await remote.close();
  });

  it('reports an unknown access key as REMOTE_BAD_CREDENTIALS', async () => {
    const remote = await createS3Remote({
      bucket: server.bucket,
      endpoint: server.endpoint,
      credentials: { accessKeyId: 'NOSUCHKEY0000000', secretAccessKey: 'not-a-real-secret-at-all' },
    });
    const err = await expectCode(remote.get('x'), 'REMOTE_BAD_CREDENTIALS');
    expect(err.message).not.toContain('not-a-real-secret-at-all');
    await remote.close();
  });
});
