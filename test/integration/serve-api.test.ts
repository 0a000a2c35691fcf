/**
 * `modelctl serve` over a repository: the JSON API answers what the CLI would, every
 * response matches the served OpenAPI 3.1 document (itself validated), files stream with
 * ETag/Range/digest headers, whole versions as tar, errors carry the CLI's codes, and the
 * server is read-only and refuses paths, methods, hosts and tokens it should.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRegistryFixture, type RegistryFixture } from '../helpers/registry-fixture.js';
import { loadContract, type Contract } from '../helpers/openapi-contract.js';
import { startServe, type ServeHandle } from '../helpers/serve.js';
import { runCli, runCliAsync, tempDir } from '../helpers/temp-repo.js';

let fx: RegistryFixture;
let server: ServeHandle;
let api: Contract;

beforeAll(async () => {
  fx = await buildRegistryFixture();
  server = await startServe(fx.root);
  api = await loadContract(server.url);
}, 120_000);

afterAll(async () => {
  const code = await server?.stop();
  fx?.remove();
  expect(code).toBe(0);
});

/** A raw request (no URL normalisation by fetch), for hostile paths and headers. */
function raw(path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve: the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document describing every endpoint', async () => {
    const result = await new Validator().validate(api.doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(api.doc.openapi).toMatch(/^3\.1\./);
    for (const p of ['/api/models', '/api/models/{model}/versions', '/api/versions/{ref}', '/api/versions/{ref}/files/{path}', '/api/versions/{ref}/tar', '/api/diff', '/api/events', '/api/events/stream', '/api/versions/{ref}/lineage', '/api/models/{model}/stages']) {
      expect(api.doc.paths[p], p).toBeTruthy();
    }
  });
});

/** Reads an event stream until `re` matches what arrived (true) or `ms` pass (false); then closes it. */
async function readUntil(res: Response, re: RegExp, ms: number): Promise<boolean> {
  const reader = res.body!.getReader();
  let text = '';
  const timer = setTimeout(() => void reader.cancel(), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      text += Buffer.from(value).toString('utf8');
      if (re.test(text)) return true;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}

describe('serve: models and versions', () => {
  it('lists models with stage holders and last change', async () => {
    const r = await api.get('/api/models');
    expect(r.status).toBe(200);
    expect(r.body.models.map((m: { name: string }) => m.name)).toEqual(['fraud', 'team/ranker']);
    const fraud = r.body.models[0];
    expect(fraud.versions).toBe(4);
    expect(fraud.latest.number).toBe(4);
    const holders = Object.fromEntries(fraud.stages.map((s: { stage: string; version: { number: number } }) => [s.stage, s.version.number]));
    expect(holders).toEqual({ staging: 3, production: 2 });
    expect(fraud.stages.find((s: { stage: string }) => s.stage === 'production').action).toBe('rollback');
    expect(fraud.metrics).toEqual(['accuracy', 'loss']);
    expect(Date.parse(fraud.lastChange)).toBeGreaterThan(0);
  });

  it('sorts a page of versions by any numeric metric, both ways, and pages and filters', async () => {
    const numbers = async (query: Record<string, string>) => (await api.get('/api/models/{model}/versions', { model: 'fraud' }, query)).body.versions.map((v: { number: number }) => v.number);
    expect(await numbers({ sort: '-accuracy' })).toEqual([2, 4, 3, 1]);
    expect(await numbers({ sort: 'accuracy' })).toEqual([1, 3, 4, 2]);
    expect(await numbers({ sort: 'loss' })).toEqual([2, 4, 3, 1]);
    expect(await numbers({})).toEqual([4, 3, 2, 1]);
    expect(await numbers({ sort: 'number' })).toEqual([1, 2, 3, 4]);
    expect(await numbers({ sort: '-accuracy', limit: '2', offset: '1' })).toEqual([4, 3]);
    expect(await numbers({ tag: 'baseline' })).toEqual([1]);
    expect(await numbers({ stage: 'production' })).toEqual([2]);
    const page = (await api.get('/api/models/{model}/versions', { model: 'fraud' }, { sort: '-accuracy', limit: '2' })).body;
    expect(page.total).toBe(4);
    expect(page.versions[0].metrics.accuracy).toBe(fx.accuracy[2]);
  });

  it('refuses a sort by an unknown metric and bad paging with usage errors (exit code 2)', async () => {
    const bad = await api.get('/api/models/{model}/versions', { model: 'fraud' }, { sort: '-acuracy' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'INVALID_SORT', exitCode: 2 });
    expect(bad.body.error.data.candidates).toContain('accuracy');
    for (const q of [{ limit: '0' }, { limit: '501' }, { offset: '-1' }, { limit: 'ten' }]) {
      const r = await api.get('/api/models/{model}/versions', { model: 'fraud' }, q);
      expect(r.status, JSON.stringify(q)).toBe(400);
      expect(r.body.error.exitCode).toBe(2);
    }
  });

  it('shows one version, a namespaced model, metric series, stage timeline, tags, lineage and diff', async () => {
    const v = await api.get('/api/versions/{ref}', { ref: 'fraud@production' });
    expect(v.body.version.number).toBe(2);
    expect(v.body.files.map((f: { path: string }) => f.path)).toEqual(['model/config.json', 'model/weights.bin']);
    expect(v.body.lineage.params).toEqual({ lr: 0.02, epochs: 20 });
    expect(v.body.lineage.metrics.accuracy).toBe(0.93);
    expect(v.body.version.stages).toEqual(['production']);
    expect(v.body.signatures).toEqual([]);

    const ranker = await api.get('/api/models/{model}', { model: 'team/ranker' });
    expect(ranker.body.latest.parent).toBe(v.body.version.id);

    const series = await api.get('/api/models/{model}/metrics/{metric}', { model: 'fraud', metric: 'accuracy' });
    expect(series.body.points.map((p: { number: number; value: number }) => [p.number, p.value])).toEqual(Object.entries(fx.accuracy).map(([n, a]) => [Number(n), a]));

    const timeline = await api.get('/api/models/{model}/stages', { model: 'fraud' });
    const moves = timeline.body.moves.map((m: { stage: string; version: { number: number }; rollback: boolean }) => `${m.stage}:v${m.version.number}${m.rollback ? ':rollback' : ''}`);
    expect(moves).toEqual(['staging:v2', 'production:v2', 'staging:v3', 'production:v3', 'production:v2:rollback']);
    expect(timeline.body.moves[4]).toMatchObject({ reason: 'latency regression', previous: { number: 3 } });

    expect((await api.get('/api/models/{model}/tags', { model: 'fraud' })).body.tags.map((t: { name: string }) => t.name)).toEqual(['baseline']);

    const graph = await api.get('/api/versions/{ref}/lineage', { ref: 'team/ranker@v1' });
    expect(graph.body.edges).toContainEqual({ from: `version:${v.body.version.id}`, to: graph.body.root, kind: 'parent' });
    expect(graph.body.nodes.some((n: { kind: string }) => n.kind === 'data')).toBe(true);

    const d = await api.get('/api/diff', {}, { a: 'fraud@v1', b: 'fraud@v2' });
    expect(d.body.identical).toBe(false);
    const acc = d.body.metrics.changed.find((c: { key: string }) => c.key === 'accuracy');
    expect(acc.delta).toBeCloseTo(0.12, 10);
    expect(d.body.files.changed.map((f: { path: string }) => f.path)).toEqual(['model/config.json', 'model/weights.bin']);
  });

  it('reports the audit events with the verified chain', async () => {
    const r = await api.get('/api/events', {}, { model: 'fraud' });
    expect(r.body.verified).toBe(true);
    expect(r.body.firstBad).toBeNull();
    expect(r.body.events.map((e: { action: string }) => e.action)).toEqual(['commit', 'commit', 'commit', 'commit', 'tag', 'promote', 'promote', 'promote', 'promote', 'rollback']);
    const limited = await api.get('/api/events', {}, { limit: '2' });
    expect(limited.body.events).toHaveLength(2);
    expect(limited.body.total).toBe(11);
  });

  it('answers unknown models, references, files and endpoints with the CLI’s not-found codes (exit code 3)', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['/api/models/{model}', { model: 'frad' }, 'UNKNOWN_MODEL'],
      ['/api/versions/{ref}', { ref: 'fraud@v9' }, 'UNKNOWN_REF'],
      ['/api/versions/{ref}/files/{path}', { ref: 'fraud@v1', path: 'model/nope.bin' }, 'UNKNOWN_FILE'],
    ];
    for (const [t, p, code] of cases) {
      const r = await api.get(t, p);
      expect(r.status, t).toBe(404);
      expect(r.body.error).toMatchObject({ code, exitCode: 3 });
    }
    const invalid = await api.get('/api/models/{model}', { model: 'Not A Name' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('INVALID_MODEL_NAME');
    const none = await raw('/api/nothing/here');
    expect(none.status).toBe(404);
    expect(JSON.parse(none.body).error.exitCode).toBe(3);
  });
});

describe('serve: files over HTTP', () => {
  it('streams a file with its digest as ETag, revalidates, and serves ranges', async () => {
    const shown = (await api.get('/api/versions/{ref}', { ref: 'fraud@v3' })).body;
    const weights = shown.files.find((f: { path: string }) => f.path === 'model/weights.bin');
    const whole = await api.get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v3', path: 'model/weights.bin' });
    expect(whole.status).toBe(200);
    expect(Buffer.compare(whole.body, fx.weightsV3)).toBe(0);
    expect(whole.headers.get('etag')).toBe(`"${weights.digest}"`);
    expect(whole.headers.get('x-modelctl-digest')).toBe(weights.digest);
    expect(whole.headers.get('x-modelctl-version')).toBe(shown.version.id);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    // One chunk (under 256 KiB… or not): when the manifest names its chunk, Repr-Digest is the plain sha256.
    const sha = createHash('sha256').update(fx.weightsV3).digest('base64');
    if (weights.chunk) expect(whole.headers.get('repr-digest')).toBe(`sha-256=:${sha}:`);
    else expect(whole.headers.get('repr-digest')).toBeNull();

    const again = await api.get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v3', path: 'model/weights.bin' }, {}, { 'If-None-Match': `"${weights.digest}"` });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    const part = await api.get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v3', path: 'model/weights.bin' }, {}, { Range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${fx.weightsV3.length}`);
    expect(Buffer.compare(part.body, fx.weightsV3.subarray(1000, 2000))).toBe(0);

    const tail = await api.get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v3', path: 'model/weights.bin' }, {}, { Range: 'bytes=-10' });
    expect(Buffer.compare(tail.body, fx.weightsV3.subarray(-10))).toBe(0);

    const open = await api.get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v3', path: 'model/weights.bin' }, {}, { Range: `bytes=${fx.weightsV3.length - 3}-` });
    expect(Buffer.compare(open.body, fx.weightsV3.subarray(-3))).toBe(0);

    const outside = await api.get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v3', path: 'model/weights.bin' }, {}, { Range: `bytes=${fx.weightsV3.length}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${fx.weightsV3.length}`);
    expect(outside.body.error.code).toBe('RANGE_NOT_SATISFIABLE');

    // If-Range with another version's tag: the range is ignored and the whole (new) file sent.
    const stale = await api.get('/api/versions/{ref}/files/{path}', { ref: 'fraud@v3', path: 'model/weights.bin' }, {}, { Range: 'bytes=0-9', 'If-Range': '"0000"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(fx.weightsV3.length);

    const head = await raw(`/api/versions/fraud@v3/files/model/weights.bin`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(fx.weightsV3.length));
    expect(head.body).toBe('');
  });

  it('streams a whole version as a tar of its files at their paths', async () => {
    const res = await fetch(new URL('api/versions/fraud%40v3/tar', server.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(Number(res.headers.get('content-length')));
    const dir = tempDir();
    writeFileSync(join(dir, 'v3.tar'), bytes);
    const { extract } = await import('tar');
    await extract({ file: join(dir, 'v3.tar'), cwd: dir });
    const { readFileSync } = await import('node:fs');
    expect(Buffer.compare(readFileSync(join(dir, 'model/weights.bin')), fx.weightsV3)).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'model/config.json'), 'utf8'))).toEqual({ layers: 3 });
  });
});

describe('serve: safety', () => {
  it('never lets a request path reach outside the version’s files', async () => {
    for (const p of [
      '/api/versions/fraud@v3/files/../../index.db',
      '/api/versions/fraud@v3/files/..%2F..%2F.modelctl%2Findex.db',
      '/api/versions/fraud@v3/files/%2e%2e/%2e%2e/modelctl.json',
      '/api/versions/fraud@v3/files//etc/passwd',
      '/api/versions/fraud@v3/files/model%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '/..%2F..%2Fetc%2Fpasswd',
      '/../../etc/passwd',
      '/vendor/../../../package.json',
      '/%2e%2e/%2e%2e/package.json',
    ]) {
      const r = await raw(p);
      expect([400, 404], p).toContain(r.status);
      expect(r.body).not.toContain('root:');
      expect(r.body).not.toContain('"name": "modelctl"');
      expect(JSON.parse(r.body).error.exitCode).toBeGreaterThan(1);
    }
    const nul = await raw('/api/versions/fraud@v3/files/model%00/weights.bin');
    expect(nul.status).toBe(400);
    const badEscape = await raw('/api/models/%E0%A4%A');
    expect(badEscape.status).toBe(400);
  });

  it('is read-only: any method but GET and HEAD is refused (405)', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await raw('/api/models', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(JSON.parse(r.body).error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', exitCode: 2 });
    }
  });

  it('refuses requests naming another host while bound to loopback without a token (DNS rebinding)', async () => {
    const r = await raw('/api/models', { headers: { Host: 'attacker.example:8080' } });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error.code).toBe('FORBIDDEN_HOST');
    expect((await raw('/api/models', { headers: { Host: 'localhost' } })).status).toBe(200);
  });

  it('refuses to bind beyond loopback without --token-file, and checks the token when given', async () => {
    const open = runCli(fx.root, ['serve', '--host', '0.0.0.0', '--port', '0', '--json']);
    expect(open.code).toBe(2);
    expect(open.error().code).toBe('TOKEN_REQUIRED');

    const tokenFile = join(tempDir(), 'serve.token');
    writeFileSync(tokenFile, 'short\n');
    const weak = runCli(fx.root, ['serve', '--token-file', tokenFile, '--port', '0', '--json']);
    expect(weak.code).toBe(2);
    expect(weak.error().code).toBe('INVALID_TOKEN_FILE');

    const token = 'f'.repeat(20) + '0123456789abcdef';
    writeFileSync(tokenFile, `${token}\n`);
    const guarded = await startServe(fx.root, ['--token-file', tokenFile]);
    try {
      expect(guarded.started.tokenRequired).toBe(true);
      const denied = await fetch(new URL('api/models', guarded.url));
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      expect((await fetch(new URL('api/models', guarded.url), { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const allowed = await fetch(new URL('api/models', guarded.url), { headers: { Authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
      // The UI: ?token= sets an HttpOnly cookie and drops the token from the address.
      const login = await fetch(new URL(`/?token=${token}`, guarded.url), { redirect: 'manual' });
      expect(login.status).toBe(303);
      expect(login.headers.get('location')).toBe('/');
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
      expect(login.headers.get('set-cookie')).toMatch(/HttpOnly/);
      expect((await fetch(new URL('api/models', guarded.url), { headers: { Cookie: cookie } })).status).toBe(200);
    } finally {
      expect(await guarded.stop()).toBe(0);
    }
  });
});

describe('serve: live changes', () => {
  it('announces a stage move made by another process as a server-sent event', async () => {
    const controller = new AbortController();
    const res = await fetch(new URL('api/events/stream', server.url), { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const received = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return null;
        text += Buffer.from(value).toString('utf8');
        const m = /event: stage\ndata: (.+)\n\n/.exec(text);
        if (m) return { id: /id: (\d+)\nevent: stage/.exec(text)?.[1], notice: JSON.parse(m[1]) };
      }
    })();
    const moved = await runCliAsync(fx.root, ['promote', 'fraud@v4', '--to', 'staging', '--reason', 'live test']);
    expect(moved.code).toBe(0);
    const got = await Promise.race([received, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
    controller.abort();
    expect(got).not.toBeNull();
    api.checkSchema('ChangeNotice', got!.notice);
    expect(got!.notice).toMatchObject({ kind: 'stage', model: 'fraud', stage: 'staging', version: { number: 4, ref: 'fraud@v4' } });
    expect(got!.notice.event).toMatchObject({ action: 'promote', reason: 'live test' });
    expect(Number(got!.id)).toBe(got!.notice.seq);

    // A client reconnecting with Last-Event-ID gets what it missed.
    const replay = await fetch(new URL('api/events/stream', server.url), { headers: { 'Last-Event-ID': String(got!.notice.seq - 1) } });
    expect(replay.status).toBe(200);
    const replayed = await readUntil(replay, new RegExp(`id: ${got!.notice.seq}\nevent: stage\n`), 10_000);
    expect(replayed).toBe(true);
  });

  it('reports a tampered audit chain as not verified, naming the first bad event', async () => {
    const db = new Database(join(fx.root, '.modelctl', 'index.db'));
    try {
      db.prepare("UPDATE events SET payload = replace(payload, 'latency regression', 'nothing to see') WHERE action = 'rollback'").run();
    } finally {
      db.close();
    }
    const r = await api.get('/api/events');
    expect(r.body.verified).toBe(false);
    expect(r.body.firstBad.reason).toBe('hash-mismatch');
    expect(r.body.events.find((e: { seq: number }) => e.seq === r.body.firstBad.seq).action).toBe('rollback');
  });
});

describe('serve: a repository that fetched versions without their bytes', () => {
  it('downloads a file from the default remote on first request, verified, and answers 404 without a remote', async () => {
    const { tempRepo, writeFile, pseudoRandomBytes } = await import('../helpers/temp-repo.js');
    const registry = join(tempDir(), 'registry');
    const a = tempRepo();
    const bytes = pseudoRandomBytes(2 * 1024 * 1024 + 5, 3);
    writeFile(a, 'model/w.bin', bytes);
    expect(runCli(a, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    expect(runCli(a, ['commit', 'fraud', 'model/', '-m', 'one']).code).toBe(0);
    expect(runCli(a, ['push']).code).toBe(0);
    const b = tempRepo();
    expect(runCli(b, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    expect(runCli(b, ['fetch']).code).toBe(0);
    const served = await startServe(b);
    try {
      const r = await fetch(new URL('api/versions/fraud%40v1/files/model/w.bin', served.url));
      expect(r.status).toBe(200);
      expect(Buffer.compare(Buffer.from(await r.arrayBuffer()), bytes)).toBe(0);
      expect(runCli(b, ['verify', '--json']).json().ok).toBe(true);
    } finally {
      expect(await served.stop()).toBe(0);
    }
    // The same metadata with no remote to fetch from: not found, naming the fix.
    writeFile(b, 'modelctl.json', JSON.stringify({ stages: ['staging', 'production'] }));
    rmSync(join(b, '.modelctl', 'objects'), { recursive: true, force: true });
    const alone = await startServe(b);
    try {
      const r = await fetch(new URL('api/versions/fraud%40v1/files/model/w.bin', alone.url));
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('OBJECT_NOT_LOCAL');
    } finally {
      expect(await alone.stop()).toBe(0);
    }
  });

  it('never completes a response of corrupt bytes: the connection is cut, the object quarantined, and the next request downloads it again', async () => {
    const { tempRepo, writeFile, pseudoRandomBytes } = await import('../helpers/temp-repo.js');
    const { chmodSync, existsSync, readFileSync } = await import('node:fs');
    const registry = join(tempDir(), 'registry');
    const repo = tempRepo();
    const bytes = pseudoRandomBytes(3 * 1024 * 1024 + 11, 9); // several chunks
    writeFile(repo, 'model/w.bin', bytes);
    expect(runCli(repo, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    expect(runCli(repo, ['commit', 'fraud', 'model/', '-m', 'one']).code).toBe(0);
    expect(runCli(repo, ['push']).code).toBe(0);
    const digest = (runCli(repo, ['show', 'fraud@v1', '--json']).json().files as { digest: string }[])[0].digest;
    const object = join(repo, '.modelctl/objects', digest.slice(0, 2), digest.slice(2));
    /** Flips a byte at `at` in the stored object (its file changes: mtime and ctime move). */
    const rot = (at: number) => {
      chmodSync(object, 0o644);
      const b = readFileSync(object);
      b[at] ^= 0xff;
      writeFileSync(object, b);
    };
    const get = async (range?: string): Promise<{ status: number; body: Buffer | null }> => {
      try {
        const r = await fetch(new URL('api/versions/fraud%40v1/files/model/w.bin', served.url), { headers: range ? { Range: range } : {} });
        return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
      } catch {
        return { status: 0, body: null }; // the connection was cut: no complete response
      }
    };
    const served = await startServe(repo);
    try {
      // Sent whole and intact once (checked), then as it is; a change to its file is checked again.
      expect(Buffer.compare((await get()).body!, bytes)).toBe(0);
      expect(Buffer.compare((await get()).body!, bytes)).toBe(0);
      rot(bytes.length - 100);
      expect(await get()).toEqual({ status: 0, body: null });
      expect(existsSync(object)).toBe(false);
      expect(served.stderr()).toContain('CORRUPT_OBJECT');
      // The next request brings the object again from the default remote, checked.
      const again = await get();
      expect(again.status).toBe(200);
      expect(Buffer.compare(again.body!, bytes)).toBe(0);
      // A range is checked too: the chunks it lies in are hashed before any byte goes.
      rot(10);
      expect((await get('bytes=0-99')).body).toBeNull();
      const range = await get('bytes=0-99');
      expect(range.status).toBe(206);
      expect(Buffer.compare(range.body!, bytes.subarray(0, 100))).toBe(0);
      // The tar of the version is cut short the same way.
      rot(5);
      const tar = await fetch(new URL('api/versions/fraud%40v1/tar', served.url)).then((r) => r.arrayBuffer()).then(() => 'complete', () => 'cut');
      expect(tar).toBe('cut');
      expect(Buffer.compare((await get()).body!, bytes)).toBe(0);
    } finally {
      expect(await served.stop()).toBe(0);
    }
    expect(runCli(repo, ['verify']).code).toBe(0);
  });
});
