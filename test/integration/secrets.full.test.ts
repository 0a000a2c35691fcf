/**
 * Credentials never leak: a realistic session (remote add, config set, init --remote, commit with a presigned data
 * URL, push, fetch, pull in a repository and without one, listings, history) runs with
 * distinctive secrets in the environment (AWS access key, secret key, session token), in
 * URLs (userinfo `user:pass@`, presigned `X-Amz-Signature` / `X-Amz-Credential` /
 * `X-Amz-Security-Token`) and in the git remote; and failing requests meet a hostile
 * server that echoes the request's Authorization header and token into its error message.
 * Then every output (stdout and stderr, human and --json) and every byte of every file
 * under `.modelctl/` (the index and its WAL read raw), modelctl.json and the registry
 * itself (events, manifests) is searched for each secret.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeakFinder } from '../helpers/secret-scan.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCliAsync, type AsyncRun } from './lifecycle-helpers.js';

const tag = randomBytes(4).toString('hex').toUpperCase();
const SECRETS = {
  'AWS access key id': `AKIAMCTL${tag}LEAKQ`,
  'AWS secret access key': `mctlSecret/${tag}+K3y/Leak/9f8e7d6c5b4a39281716`,
  'AWS session token': `FwoGZXIvYXdzEMctlSessionToken${tag}LeakCheck0123456789abcdefXYZ`,
  'URL user': `leakyuser${tag.toLowerCase()}`,
  'URL password': `UrlPassw0rd${tag}Leak`,
  'presigned signature': `${tag.toLowerCase()}5e1f0c7a9b3d2e4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b3c5d7e9f1a2b3c4d5e`.slice(0, 64),
  'git token': `ghp_MctlGitToken${tag}Leak0123456789`,
};
const presignedData =
  `https://data-bucket.s3.amazonaws.com/train.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256` +
  `&X-Amz-Credential=${SECRETS['AWS access key id']}%2F20261128%2Fus-east-1%2Fs3%2Faws4_request` +
  `&X-Amz-Security-Token=${encodeURIComponent(SECRETS['AWS session token'])}` +
  `&X-Amz-Signature=${SECRETS['presigned signature']}`;
const userinfo = `${SECRETS['URL user']}:${SECRETS['URL password']}`;

let s3: S3rverHandle;
let hostile: Server;
let hostileEndpoint: string;
const hostileHits: string[] = [];

/** Answers like a buggy or hostile S3 stand-in: the request's credentials echoed in every error message. */
function echoCredentials(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const auth = String(req.headers.authorization ?? '');
    const token = String(req.headers['x-amz-security-token'] ?? '');
    hostileHits.push(`${req.method} ${req.url}`);
    const status = req.url?.includes('500') ? 500 : 403;
    const code = status === 500 ? 'InternalError' : 'SignatureDoesNotMatch';
    const body =
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code>` +
      `<Message>The request signature we calculated does not match. You sent: ${auth} with token ${token}</Message>` +
      `<AWSAccessKeyId>${auth.match(/Credential=([^/]+)/)?.[1] ?? ''}</AWSAccessKeyId><SignatureProvided>${auth.match(/Signature=(\w+)/)?.[1] ?? ''}</SignatureProvided>` +
      `<StringToSign>AWS4-HMAC-SHA256 ${token}</StringToSign><RequestId>hostile</RequestId></Error>`;
    if (req.method === 'HEAD') {
      res.writeHead(status, { 'x-amz-error-message': `echo ${auth} ${token}` });
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
}

beforeAll(async () => {
  s3 = await startS3rver({ bucket: 'registry' });
  // s3rver checks SigV4 signatures against its own key pairs: register the distinctive one
  // (its account registry is shared with the in-process server through the module cache).
  expect(s3.mode).toBe('in-process');
  const account = createRequire(import.meta.url)('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
  account.DUMMY_ACCOUNT.createKeyPair(SECRETS['AWS access key id'], SECRETS['AWS secret access key']);
  hostile = createServer(echoCredentials);
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
  hostileEndpoint = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await s3?.stop();
  hostile?.closeAllConnections();
  await new Promise((resolve) => hostile?.close(resolve));
});

/** The environment of every command: the distinctive credentials, nothing else from AWS. */
function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: SECRETS['AWS access key id'],
    AWS_SECRET_ACCESS_KEY: SECRETS['AWS secret access key'],
    AWS_SESSION_TOKEN: SECRETS['AWS session token'],
    AWS_PROFILE: undefined,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: undefined,
    AWS_ENDPOINT_URL: undefined,
    MODELCTL_REMOTE: undefined,
    MODELCTL_S3_MAX_ATTEMPTS: '2',
    MODELCTL_S3_SOCKET_TIMEOUT_MS: '5000',
    ...extra,
  };
}

describe('credentials never appear in the index, events, logs, error messages or --json output', () => {
  it('a realistic session, searched everywhere', async () => {
    const finder = new LeakFinder(SECRETS);
    const runs: { what: string; r: AsyncRun }[] = [];
    const run = async (cwd: string, args: string[], opts: { env?: Record<string, string | undefined>; expect?: number } = {}) => {
      const r = await runCliAsync(cwd, args, { env: env(opts.env), timeoutMs: 60_000 });
      runs.push({ what: args.join(' '), r });
      finder.output(`\`modelctl ${args.join(' ')}\``, r);
      expect(r.timedOut, args.join(' ')).toBe(false);
      if (opts.expect !== undefined) expect(r.code, `${args.join(' ')}:\n${r.stderr}`).toBe(opts.expect);
      return r;
    };

    // A training repository under git whose origin carries a token, as CI checkouts often do.
    const a = tempRepo();
    const git = (...args: string[]) => execFileSync('git', args, { cwd: a, stdio: 'pipe', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    git('init', '-q');
    git('remote', 'add', 'origin', `https://x-access-token:${SECRETS['git token']}@github.com/acme/fraud-models.git`);
    git('-c', 'user.email=ml@acme.test', '-c', 'user.name=ML', 'commit', '-q', '--allow-empty', '-m', 'init');
    writeFile(a, 'model/weights.bin', pseudoRandomBytes(3 * 1024 * 1024, 7));
    writeFile(a, 'model/config.json', '{"layers": 4}');

    // Credentials in remote URLs are refused, and the refusal does not repeat them.
    await run(a, ['remote', 'add', 'leaky', `s3://${userinfo}@registry/team`], { expect: 2 });
    await run(a, ['remote', 'add', 'leaky', 's3://registry/team', '--endpoint', `http://${userinfo}@127.0.0.1:9`, '--json'], { expect: 2 });
    await run(a, ['remote', 'add', 'leaky', `s3://registry/team?X-Amz-Signature=${SECRETS['presigned signature']}`, '--json'], { expect: 2 });
    await run(a, ['remote', 'add', 'leaky', `https://${userinfo}@registry.example/team`], { expect: 2 });
    for (const [key, value] of [
      ['remotes.leaky.url', `s3://${userinfo}@registry/team`],
      ['remotes.leaky.endpoint', `http://${userinfo}@127.0.0.1:9`],
      ['remotes.leaky', JSON.stringify({ url: `s3://registry/team?X-Amz-Security-Token=${encodeURIComponent(SECRETS['AWS session token'])}` })],
      ['models.fraud.data', JSON.stringify([presignedData])],
    ]) {
      await run(a, ['config', 'set', key!, value!, '--json'], { expect: 2 });
      await run(a, ['config', 'set', key!, value!, '--shared'], { expect: 2 });
    }
    await run(tempDir(), ['init', '--yes', '--remote', `s3://${userinfo}@registry/team`], { expect: 2 });
    await run(a, ['remote', 'add', 'origin', 's3://registry/team', '--endpoint', s3.endpoint, '--default', '--json'], { expect: 0 });
    await run(a, ['remote', 'add', 'hostile', 's3://registry/team', '--endpoint', hostileEndpoint, '--json'], { expect: 0 });

    // Lineage: a presigned data URL and the git origin.
    await run(a, ['commit', 'fraud', 'model', '-m', 'trained', '--data', presignedData, '--param', 'lr=0.1', '--json'], { expect: 0 });
    await run(a, ['tag', 'fraud@v1', 'candidate'], { expect: 0 });
    await run(a, ['promote', 'fraud@v1', '--to', 'staging', '--yes', '--reason', 'offline eval passed'], { expect: 0 });
    await run(a, ['push', '--json'], { expect: 0 });
    await run(a, ['push'], { expect: 0 });
    await run(a, ['promote', 'fraud@v1', '--to', 'production', '--yes', '--push', '--json'], { expect: 0 });
    for (const args of [['show', 'fraud@v1', '--json'], ['show', 'fraud@v1'], ['log', 'fraud', '--json'], ['lineage', 'fraud@v1', '--json'], ['history', '--json'], ['history', '--verify'], ['remote', 'ls', '--json'], ['remote', 'ls'], ['config', 'ls', '--json'], ['status', '--json'], ['ls', '--json']]) {
      await run(a, args, { expect: 0 });
    }
    await run(a, ['verify', 'fraud@v1', '--remote', 'origin', '--json'], {});

    // A second repository fetches and pulls; CI pulls with no repository at all.
    const b = tempRepo();
    await run(b, ['remote', 'add', 'origin', 's3://registry/team', '--endpoint', s3.endpoint, '--default'], { expect: 0 });
    await run(b, ['fetch', '--json'], { expect: 0 });
    await run(b, ['pull', 'fraud@production', '--out', 'restored', '--json'], { expect: 0 });
    await run(b, ['show', 'fraud@production', '--json'], { expect: 0 });
    await run(b, ['history', 'fraud', '--json'], { expect: 0 });
    const ci = tempDir();
    await run(ci, ['pull', 'fraud@candidate', '--remote', 's3://registry/team', '--out', 'o', '--json'], { env: { AWS_ENDPOINT_URL_S3: s3.endpoint }, expect: 0 });

    // Failures: URLs with credentials given directly, and a server that echoes what it was sent.
    await run(ci, ['pull', 'fraud', '--remote', `s3://${userinfo}@registry/team`, '--json'], { expect: 2 });
    await run(ci, ['pull', 'fraud', '--remote', `https://${userinfo}@registry.s3.amazonaws.com/team?X-Amz-Signature=${SECRETS['presigned signature']}`], { expect: 2 });
    await run(b, ['fetch', '--json'], { env: { MODELCTL_REMOTE: `s3://${userinfo}@registry/team` } });
    for (const args of [['push', '--remote', 'hostile', '--json'], ['push', '--remote', 'hostile'], ['fetch', '--remote', 'hostile', '--json'], ['pull', 'fraud', '--remote', 'hostile', '--out', 'h', '--json']]) {
      const r = await run(a, args, { env: { MODELCTL_DEBUG: '1' } });
      expect(r.code, `${args.join(' ')}:\n${r.stderr}`).toBe(7);
    }
    const hostileCi = await run(ci, ['pull', 'fraud', '--remote', 's3://registry/team-500', '--out', 'h2', '--json'], { env: { AWS_ENDPOINT_URL_S3: hostileEndpoint, MODELCTL_DEBUG: '1' } });
    expect(hostileCi.code).toBe(7);
    expect(hostileHits.length).toBeGreaterThan(0);
    // The hostile server really echoed them (so the scrubbing above was put to the test).
    const rawEcho = await fetchEcho();
    expect(rawEcho).toContain(SECRETS['AWS access key id']);
    expect(rawEcho).toContain(SECRETS['AWS session token']);

    // Every byte modelctl wrote: both repositories' .modelctl/ (index.db, its WAL, config,
    // manifests, objects), modelctl.json, and the registry's objects (events, manifests).
    for (const [label, dir] of [['repo A', a], ['repo B', b], ['CI folder', ci]] as const) {
      finder.tree(join(dir, '.modelctl'), `${label} .modelctl`);
      finder.tree(dir, label, ['.modelctl', '.git', 'model', 'restored', 'o']);
    }
    finder.tree(s3.directory, 'registry');
    console.log(`[secrets] ${runs.length} commands, ${finder.scanned.outputs} outputs and ${finder.scanned.files} files (${finder.scanned.bytes} bytes) searched for ${Object.keys(SECRETS).length} secrets; ${finder.leaks.length} leaks`);
    finder.expectNone();
  }, 120_000);
});

/** What the hostile server answers to a request signed with the session's credentials. */
async function fetchEcho(): Promise<string> {
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: hostileEndpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: SECRETS['AWS access key id'], secretAccessKey: SECRETS['AWS secret access key'], sessionToken: SECRETS['AWS session token'] },
  });
  try {
    await client.send(new GetObjectCommand({ Bucket: 'registry', Key: 'x' }));
    return '';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    client.destroy();
  }
}
