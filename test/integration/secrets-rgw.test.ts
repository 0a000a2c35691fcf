/**
 * Credentials never leak against a store that really checks them (Ceph RGW, SigV4): a
 * session with the right keys (remote add, commit, push, fetch, pull), then requests with
 * a session token the store never issued, a wrong secret key and an unknown access key.
 * Each refusal exits 7 with a credentials error; no output and no file under .modelctl/,
 * nor the registry, holds the access key id, the secret keys or the token.
 * Skipped when radosgw is not installed.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeakFinder } from '../helpers/secret-scan.js';
import { rgwSkipReason, startRgw, type RgwHandle } from '../helpers/rgw.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCliAsync, type AsyncRun } from './lifecycle-helpers.js';

const skipReason = rgwSkipReason();
if (skipReason !== undefined) {
  console.warn(skipReason);
  it.skip(skipReason, () => undefined);
}

describe.skipIf(skipReason !== undefined)('credentials against Ceph RGW (signatures checked)', () => {
  let rgw: RgwHandle;
  beforeAll(async () => {
    rgw = await startRgw({ bucket: 'secrets' });
  }, 180_000);
  afterAll(async () => {
    await rgw?.stop();
  }, 60_000);

  it('right keys, wrong secret, unknown key, foreign session token: nothing leaks anywhere', async () => {
    const wrongSecret = `WrongSecret${randomBytes(12).toString('hex')}Leak`;
    const unknownKey = `AKIAUNKNOWN${randomBytes(5).toString('hex').toUpperCase()}`;
    const foreignToken = `ForeignSessionToken${randomBytes(16).toString('hex')}Leak`;
    const finder = new LeakFinder({
      'access key id': rgw.credentials.accessKeyId,
      'secret key': rgw.credentials.secretAccessKey,
      'wrong secret key': wrongSecret,
      'unknown access key id': unknownKey,
      'foreign session token': foreignToken,
    });
    const base = {
      AWS_ACCESS_KEY_ID: rgw.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_REGION: rgw.region,
      AWS_ENDPOINT_URL_S3: undefined,
      AWS_ENDPOINT_URL: undefined,
      MODELCTL_S3_MAX_ATTEMPTS: '2',
    };
    const run = async (cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<AsyncRun> => {
      const r = await runCliAsync(cwd, args, { env: { ...base, ...env }, timeoutMs: 60_000 });
      finder.output(`\`modelctl ${args.join(' ')}\``, r);
      expect(r.timedOut, args.join(' ')).toBe(false);
      return r;
    };
    const ok = (r: AsyncRun) => expect(r.code, r.stderr).toBe(0);

    const prefix = `s-${randomBytes(3).toString('hex')}`;
    const a = tempRepo();
    writeFile(a, 'model/weights.bin', pseudoRandomBytes(2 * 1024 * 1024, 3));
    ok(await run(a, ['remote', 'add', 'origin', `s3://secrets/${prefix}`, '--endpoint', rgw.endpoint, '--default']));
    ok(await run(a, ['commit', 'fraud', 'model', '-m', 'first', '--tag', 'candidate']));
    ok(await run(a, ['push', '--json']));
    ok(await run(a, ['promote', 'fraud@v1', '--to', 'staging', '--yes', '--push', '--json']));
    const b = tempRepo();
    ok(await run(b, ['remote', 'add', 'origin', `s3://secrets/${prefix}`, '--endpoint', rgw.endpoint, '--default']));
    ok(await run(b, ['fetch', '--json']));
    ok(await run(b, ['pull', 'fraud@staging', '--out', 'restored', '--json']));
    const ci = tempDir();
    ok(await run(ci, ['pull', 'fraud@candidate', '--remote', `s3://secrets/${prefix}`, '--out', 'o'], { AWS_ENDPOINT_URL_S3: rgw.endpoint }));

    // RGW without STS ignores a session token it never issued: those commands succeed, and
    // the token must still appear nowhere (it is sent with every request).
    for (const args of [['push', '--json'], ['fetch', '--json'], ['pull', 'fraud', '--out', 't', '--json']]) {
      ok(await run(a, args, { AWS_SESSION_TOKEN: foreignToken }));
    }
    const failures: [string, Record<string, string | undefined>][] = [
      ['a wrong secret key', { AWS_SECRET_ACCESS_KEY: wrongSecret, AWS_SESSION_TOKEN: foreignToken }],
      ['an unknown access key', { AWS_ACCESS_KEY_ID: unknownKey, AWS_SECRET_ACCESS_KEY: wrongSecret }],
    ];
    for (const [what, env] of failures) {
      for (const args of [['push', '--json'], ['fetch'], ['pull', 'fraud', '--out', 'x', '--json']]) {
        const r = await run(a, args, { ...env, MODELCTL_DEBUG: '1' });
        expect(r.code, `${what}: ${args.join(' ')}\n${r.stderr}`).toBe(7);
        expect(r.stderr, what).toMatch(/REMOTE_BAD_CREDENTIALS|REMOTE_ACCESS_DENIED|credentials rejected|access denied/);
      }
      const r = await run(ci, ['pull', 'fraud', '--remote', `s3://secrets/${prefix}`, '--out', 'y', '--json'], { ...env, AWS_ENDPOINT_URL_S3: rgw.endpoint });
      expect(r.code, `${what}: repository-less pull\n${r.stderr}`).toBe(7);
    }

    for (const [label, dir] of [['repo A', a], ['repo B', b], ['CI folder', ci]] as const) {
      finder.tree(join(dir, '.modelctl'), `${label} .modelctl`);
      finder.tree(dir, label, ['.modelctl', 'model', 'restored', 'o', 't']);
    }
    console.log(`[secrets rgw] ${finder.scanned.outputs} outputs and ${finder.scanned.files} files searched for 5 secrets; ${finder.leaks.length} leaks`);
    finder.expectNone();
  }, 150_000);
});
