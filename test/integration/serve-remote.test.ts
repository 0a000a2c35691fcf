/**
 * `modelctl serve --remote` with no repository, over an S3 remote (s3rver): the API reads the
 * remote through a cache, files are fetched (and verified) on first request, a promotion
 * pushed by another repository shows up on the poll and on the event stream, every response
 * matches the OpenAPI document, and the remote's credentials appear in no response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadContract, type Contract } from '../helpers/openapi-contract.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { startServe, type ServeHandle } from '../helpers/serve.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { init } from '../../src/api/init.js';
import { pseudoRandomBytes, runCliAsync, writeFile } from '../helpers/temp-repo.js';

/** The CLI, asynchronously: s3rver runs in this process and must keep answering. */
const cli = async (cwd: string, args: string[]) => (await runCliAsync(cwd, args, { env: AWS, timeoutMs: 60_000 })).code;

// Distinctive credentials (registered with s3rver below) let the test look for leaks.
const KEY_ID = 'AKIASERVELEAKCHECK01';
const SECRET = 'serveLeakCheckSecret/0123456789abcdefXYZ';
const AWS = { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: 'us-east-1' };

describe('serve --remote: a remote through a cache, no repository', () => {
  let s3: S3rverHandle;
  let team: string;
  let host: string;
  let server: ServeHandle;
  let api: Contract;
  let weights: Buffer;
  const bodies: string[] = [];

  beforeAll(async () => {
    s3 = await startS3rver({ bucket: 'registry' });
    // s3rver checks SigV4 signatures against its own key pairs: register the distinctive one
    // (its account registry is shared with the in-process server through the module cache).
    expect(s3.mode).toBe('in-process');
    const account = createRequire(import.meta.url)('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
    account.DUMMY_ACCOUNT.createKeyPair(KEY_ID, SECRET);
    // Folders that outlive single tests (tempDir's are removed after each one).
    team = mkdtempSync(join(tmpdir(), 'modelctl-serve-team-'));
    host = mkdtempSync(join(tmpdir(), 'modelctl-serve-host-'));
    init({ cwd: team });
    expect(await cli(team, ['remote', 'add', 'origin', 's3://registry/team', '--endpoint', s3.endpoint, '--default'])).toBe(0);
    weights = pseudoRandomBytes(3 * 1024 * 1024 + 17, 7); // several chunks
    writeFile(team, 'model/weights.bin', weights);
    expect((await cli(team, ['commit', 'fraud', 'model/', '-m', 'one', '--metric', 'accuracy=0.9']))).toBe(0);
    writeFile(team, 'model/weights.bin', Buffer.concat([weights, Buffer.from('v2')]));
    expect((await cli(team, ['commit', 'fraud', 'model/', '-m', 'two', '--metric', 'accuracy=0.95']))).toBe(0);
    expect((await cli(team, ['push']))).toBe(0);
    expect((await cli(team, ['promote', 'fraud@v1', '--to', 'production', '--push', '--yes']))).toBe(0);
    server = await startServe(host, ['--remote', 's3://registry/team', '--poll', '1s', '--cache', join(host, 'cache')], { env: { ...AWS, AWS_ENDPOINT_URL_S3: s3.endpoint } });
    api = await loadContract(server.url);
  }, 120_000);

  afterAll(async () => {
    const code = await server?.stop();
    await s3?.stop();
    for (const d of [team, host]) if (d) rmSync(d, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  const get = async (template: string, params: Record<string, string> = {}, query: Record<string, string> = {}, headers: Record<string, string> = {}) => {
    const r = await api.get(template, params, query, headers);
    bodies.push(Buffer.isBuffer(r.body) ? r.body.toString('latin1') : JSON.stringify(r.body), JSON.stringify([...r.headers]));
    return r;
  };

  it('serves the remote’s models, versions and history', async () => {
    expect(server.started.mode).toBe('remote');
    const info = await get('/api/info');
    expect(info.body).toMatchObject({ mode: 'remote', remote: 's3://registry/team', readOnly: true, remotePollSeconds: 1 });
    const models = await get('/api/models');
    expect(models.body.models.map((m: { name: string }) => m.name)).toEqual(['fraud']);
    expect(models.body.models[0].stages.map((s: { stage: string; version: { number: number } }) => [s.stage, s.version.number])).toEqual([['production', 1]]);
    const page = await get('/api/models/{model}/versions', { model: 'fraud' }, { sort: '-accuracy' });
    expect(page.body.versions.map((v: { number: number }) => v.number)).toEqual([2, 1]);
    const events = await get('/api/events');
    expect(events.body.verified).toBe(true);
    expect(events.body.events.map((e: { action: string }) => e.action)).toContain('promote');
  });

  it('fetches a file from the remote on first request, verified, and serves ranges of it', async () => {
    const whole = await get('/api/versions/{ref}/files/{path}', { ref: 'fraud@production', path: 'model/weights.bin' });
    expect(whole.status).toBe(200);
    expect(Buffer.compare(whole.body, weights)).toBe(0);
    const part = await get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v2', path: 'model/weights.bin' }, {}, { Range: `bytes=${weights.length}-` });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe('v2');
    const tar = await fetch(new URL('api/versions/fraud%40v2/tar', server.url));
    expect(tar.status).toBe(200);
    expect((await tar.arrayBuffer()).byteLength).toBe(Number(tar.headers.get('content-length')));
  });

  it('shows a promotion pushed by another repository after the next poll, on the API and the event stream', async () => {
    const controller = new AbortController();
    const stream = await fetch(new URL('api/events/stream', server.url), { signal: controller.signal });
    const reader = stream.body!.getReader();
    let text = '';
    const seen = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        text += Buffer.from(value).toString('utf8');
        if (/event: stage\ndata: .*"ref":"fraud@v2"/.test(text)) return true;
      }
    })();
    expect((await cli(team, ['promote', 'fraud@v2', '--to', 'production', '--push', '--yes']))).toBe(0);
    const got = await Promise.race([seen, new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
    controller.abort();
    bodies.push(text);
    expect(got).toBe(true);
    const v = await get('/api/versions/{ref}', { ref: 'fraud@production' });
    expect(v.body.version.number).toBe(2);
  });

  it('never puts the remote’s credentials in a response or its log', async () => {
    const log = server.stderr();
    for (const text of [...bodies, log]) {
      for (const secret of [SECRET, KEY_ID, encodeURIComponent(SECRET), Buffer.from(SECRET).toString('base64')]) expect(text).not.toContain(secret);
    }
  });
});
