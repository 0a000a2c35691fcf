/**
 * How the S3 backend behaves when the network or the server misbehaves, against a tiny
 * in-memory S3 stand-in whose next answers a test can script (throttling, 5xx, stalls,
 * lost responses, 409 conflicts). Real servers cannot be made to fail on demand.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createS3Remote, type S3RemoteOptions } from '../../src/remote/s3.js';
import { sender } from './lean-get.js';
import { expectCode } from './remote-contract.js';

type Fault = (req: IncomingMessage, res: ServerResponse, body: Buffer) => 'handled' | 'pass';

const objects = new Map<string, { body: Buffer; etag: string }>();
const faults: Fault[] = [];
const seen: { method: string; url: string; headers: IncomingMessage['headers']; port: number }[] = [];
let server: Server;
let endpoint: string;

function xmlError(res: ServerResponse, status: number, code: string, message = code): 'handled' {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  return 'handled';
}

// Just enough of S3 (path style, single PUT/GET/HEAD with conditions) for the SDK.
function serve(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const key = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).split('/').slice(2).join('/');
  const current = objects.get(key);
  if (req.method === 'PUT') {
    if (req.headers['if-none-match'] === '*' && current !== undefined) return void xmlError(res, 412, 'PreconditionFailed');
    const ifMatch = req.headers['if-match'];
    // AWS: If-Match on a missing key is 404 NoSuchKey (RGW says 412; the RGW suite covers that).
    if (ifMatch !== undefined && current === undefined) return void xmlError(res, 404, 'NoSuchKey');
    if (ifMatch !== undefined && ifMatch !== current!.etag) return void xmlError(res, 412, 'PreconditionFailed');
    const etag = createHash('md5').update(body).digest('hex');
    objects.set(key, { body, etag });
    res.writeHead(200, { etag: `"${etag}"` });
    return void res.end();
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (current === undefined) {
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      return void xmlError(res, 404, 'NoSuchKey');
    }
    res.writeHead(200, { etag: `"${current.etag}"`, 'content-length': String(current.body.length) });
    return void res.end(req.method === 'GET' ? current.body : undefined);
  }
  xmlError(res, 501, 'NotImplemented');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, port: req.socket.remotePort ?? 0 });
      const fault = faults.shift();
      if (fault !== undefined && fault(req, res, body) === 'handled') return;
      serve(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  faults.length = 0;
  seen.length = 0;
  objects.clear();
});

const open = (opts: Partial<S3RemoteOptions> = {}) =>
  createS3Remote({
    bucket: 'b',
    endpoint,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'fake-secret-for-tests' },
    maxAttempts: 3,
    ...opts,
  });

describe('lean GETs (s3-lean-requests.ts)', () => {
  it('sends GETs itself, SigV4-signed, path-style with the key encoded, ranges as bytes=start-end', async () => {
    const remote = await open({ prefix: 'team a/' });
    await remote.put("models/m (1)/x+y's.json", Buffer.from('0123456789'));
    expect((await remote.get("models/m (1)/x+y's.json"))!.body.toString()).toBe('0123456789');
    expect((await remote.get("models/m (1)/x+y's.json", { range: { start: 2, end: 4 } }))!.body.toString()).toBe('234');
    const into = new Uint8Array(16);
    expect(await remote.getInto("models/m (1)/x+y's.json", into)).toBe(10);
    expect(Buffer.from(into.subarray(0, 10)).toString()).toBe('0123456789');
    expect(await remote.getInto("models/m (1)/x+y's.json", new Uint8Array(4))).toBeGreaterThan(4);
    expect(await remote.get('models/none.json')).toBeNull();
    const gets = seen.filter((r) => r.method === 'GET');
    expect(gets.map(sender)).toEqual(['lean', 'lean', 'lean', 'lean', 'lean']);
    expect(gets[0]!.url).toBe('/b/team%20a/models/m%20%281%29/x%2By%27s.json');
    expect(String(gets[0]!.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date, Signature=[0-9a-f]{64}$/);
    expect(gets[0]!.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(gets[1]!.headers.range).toBe('bytes=2-4');
    await remote.close();
  });

  it('hands an unusual answer (a 500) to the SDK, which redoes the GET and serves every later one', async () => {
    const remote = await open();
    await remote.put('k', Buffer.from('v'));
    faults.push((_q, res) => xmlError(res, 500, 'InternalError'));
    expect((await remote.get('k'))!.body.toString()).toBe('v');
    expect((await remote.get('k'))!.body.toString()).toBe('v');
    expect(seen.filter((r) => r.method === 'GET').map(sender)).toEqual(['lean', 'sdk', 'sdk']);
    await remote.close();
  });

  it('maps a 403 through the SDK to REMOTE_ACCESS_DENIED, as before', async () => {
    const remote = await open();
    faults.push((_q, res) => xmlError(res, 403, 'AccessDenied', 'Access Denied'), (_q, res) => xmlError(res, 403, 'AccessDenied', 'Access Denied'));
    const err = await expectCode(remote.get('models/m/tags/t.json'), 'REMOTE_ACCESS_DENIED');
    expect(err.message).toMatch(/^GET models\/m\/tags\/t\.json: /);
    expect(seen.map(sender)).toEqual(['lean', 'sdk']);
    await remote.close();
  });

  it('retries a body cut short on the lean path, as a new lean GET', async () => {
    const remote = await open();
    await remote.put('big', Buffer.alloc(100_000, 7));
    faults.push((_q, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(10, 7));
      setImmediate(() => res.socket?.end());
      return 'handled';
    });
    expect((await remote.get('big'))!.body.equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect(seen.filter((r) => r.method === 'GET').map(sender)).toEqual(['lean', 'lean']);
    await remote.close();
  });
});

/** `remote.getInto(key)` into memory of exactly `want`'s size: the count and every byte are `want`'s. */
async function expectReadInto(remote: { getInto(key: string, into: Uint8Array): Promise<number | null> }, key: string, want: Buffer): Promise<void> {
  const into = new Uint8Array(want.length);
  expect(await remote.getInto(key, into)).toBe(want.length);
  expect(Buffer.from(into).equals(want)).toBe(true);
}

describe('lean PUTs (s3-lean-requests.ts)', () => {
  const chunk = (text: string) => {
    const body = Buffer.from(text);
    return { body, sha256: createHash('sha256').update(body).digest() };
  };

  it('sends a chunk PUT itself, its payload signed with the known sha256; documents and conditional PUTs go through the SDK', async () => {
    const remote = await open();
    const a = chunk('chunk bytes');
    const { etag } = await remote.put('chunks/a', a.body, { sha256: a.sha256 });
    await remote.put('doc.json', Buffer.from('{}'));
    await remote.put('ref.json', Buffer.from('{}'), { condition: { ifAbsent: true } });
    // The stand-in checks no hash: a sha256 that is not the body's shows the SDK sends the
    // given one rather than hashing the body itself.
    const given = chunk('not these bytes').sha256;
    await remote.put('chunks/b', a.body, { sha256: given, condition: { ifAbsent: true } });
    expect(seen.map(sender)).toEqual(['lean', 'sdk', 'sdk', 'sdk']);
    const [lean] = seen;
    expect(lean!.headers['x-amz-content-sha256']).toBe(a.sha256.toString('hex'));
    expect(lean!.headers['x-amz-checksum-sha256']).toBe(a.sha256.toString('base64'));
    expect(String(lean!.headers.authorization)).toMatch(/SignedHeaders=[a-z0-9;-]*x-amz-checksum-sha256;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
    expect(lean!.headers.expect).toBeUndefined();
    expect(etag).toBe(createHash('md5').update(a.body).digest('hex'));
    expect(objects.get('chunks/a')!.body.equals(a.body)).toBe(true);
    expect(seen[3]!.headers['x-amz-content-sha256']).toBe(given.toString('hex'));
    await remote.close();
  });

  it('hands an unusual answer (a 500) to the SDK, which redoes the PUT and sends every later one', async () => {
    const remote = await open();
    const a = chunk('first');
    const b = chunk('second');
    faults.push((_q, res) => xmlError(res, 500, 'InternalError'));
    await remote.put('chunks/a', a.body, { sha256: a.sha256 });
    await remote.put('chunks/b', b.body, { sha256: b.sha256 });
    expect(seen.map(sender)).toEqual(['lean', 'sdk', 'sdk']);
    expect(objects.get('chunks/a')!.body.equals(a.body)).toBe(true);
    expect(objects.get('chunks/b')!.body.equals(b.body)).toBe(true);
    await remote.close();
  });

  it('a connection cut before the answer goes to the SDK, which stores the chunk', async () => {
    const remote = await open();
    const a = chunk('cut');
    faults.push((_q, res) => {
      res.socket?.destroy();
      return 'handled';
    });
    await remote.put('chunks/a', a.body, { sha256: a.sha256 });
    expect(seen.map(sender)).toEqual(['lean', 'sdk']);
    expect(objects.get('chunks/a')!.body.equals(a.body)).toBe(true);
    await remote.close();
  });

  it('asks for the ETag when the store answered the lean PUT without one', async () => {
    const remote = await open();
    const a = chunk('no etag');
    faults.push((_q, res, body) => {
      objects.set('chunks/a', { body, etag: 'e1' });
      res.writeHead(200).end();
      return 'handled';
    });
    expect((await remote.put('chunks/a', a.body, { sha256: a.sha256 })).etag).toBe('e1');
    expect(seen.map((r) => r.method)).toEqual(['PUT', 'HEAD']);
    await remote.close();
  });

  it('a stalled lean PUT fails after the socket timeout and goes to the SDK', async () => {
    const remote = await open({ socketTimeoutMs: 300, maxAttempts: 2 });
    const a = chunk('stall');
    faults.push(() => 'handled');
    const started = Date.now();
    await remote.put('chunks/a', a.body, { sha256: a.sha256 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen.map(sender)).toEqual(['lean', 'sdk']);
    expect(objects.get('chunks/a')!.body.equals(a.body)).toBe(true);
    await remote.close();
  });
});

describe('bodies read into place (plain-http-get.ts)', () => {
  const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));

  it('reads bodies straight into the caller memory, reusing one kept-alive connection', async () => {
    const remote = await open();
    await remote.put('a', body);
    for (let i = 0; i < 3; i++) {
      const into = new Uint8Array(body.length + 10);
      expect(await remote.getInto('a', into)).toBe(body.length);
      expect(Buffer.from(into.subarray(0, body.length)).equals(body)).toBe(true);
    }
    expect(await remote.getInto('none', new Uint8Array(10))).toBeNull();
    const gets = seen.filter((r) => r.method === 'GET');
    expect(gets.map(sender)).toEqual(['lean', 'lean', 'lean', 'lean']);
    expect(new Set(gets.map((g) => g.port)).size).toBe(1);
    await remote.close();
  });

  it('reads an answer that arrives a few bytes at a time, its head split anywhere', async () => {
    const remote = await open();
    const small = body.subarray(0, 5000);
    await remote.put('s', small);
    faults.push((_q, res) => {
      const socket = res.socket!;
      const raw = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${small.length}\r\nETag: "x"\r\n\r\n`), small]);
      let at = 0;
      const step = () => {
        if (at >= raw.length) return;
        socket.write(raw.subarray(at, at + 7));
        at += 7;
        setTimeout(step, at < 200 ? 2 : 0);
      };
      step();
      return 'handled';
    });
    await expectReadInto(remote, 's', small);
    await remote.close();
  });

  it('says an object larger than the memory does not fit, without reading it', async () => {
    const remote = await open();
    await remote.put('a', body);
    expect(await remote.getInto('a', new Uint8Array(1000))).toBe(body.length);
    // The connection went with the unread body; the next GET opens another and succeeds.
    await expectReadInto(remote, 'a', body);
    await remote.close();
  });

  it('retries a body cut short as a new GET into the same memory', async () => {
    const remote = await open();
    await remote.put('a', body);
    faults.push((_q, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, 1000).map((b) => b ^ 0xff));
      setImmediate(() => res.socket?.destroy());
      return 'handled';
    });
    await expectReadInto(remote, 'a', body);
    expect(seen.filter((r) => r.method === 'GET').map(sender)).toEqual(['lean', 'lean']);
    await remote.close();
  });

  it('refuses more bytes than the answer announced, and retries', async () => {
    const remote = await open();
    await remote.put('a', body.subarray(0, 100));
    faults.push((_q, res) => {
      res.socket!.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'), body.subarray(0, 150)]));
      return 'handled';
    });
    const into = new Uint8Array(200);
    expect(await remote.getInto('a', into)).toBe(100);
    expect(Buffer.from(into.subarray(0, 100)).equals(body.subarray(0, 100))).toBe(true);
    expect(seen.filter((r) => r.method === 'GET').length).toBe(2);
    await remote.close();
  });

  it('hands a chunked answer, and a 500, to the SDK', async () => {
    const remote = await open();
    await remote.put('a', body);
    faults.push((_q, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end(body);
      return 'handled';
    });
    await expectReadInto(remote, 'a', body);
    expect(seen.filter((r) => r.method === 'GET').map(sender)).toEqual(['lean', 'sdk']);
    const again = await open();
    faults.push((_q, res) => xmlError(res, 500, 'InternalError'));
    const into = new Uint8Array(body.length);
    expect(await again.getInto('a', into)).toBe(body.length);
    expect(seen.filter((r) => r.method === 'GET').map(sender)).toEqual(['lean', 'sdk', 'lean', 'sdk']);
    await remote.close();
    await again.close();
  });

  it('retries on a new connection when the server closed the kept-alive one', async () => {
    const remote = await open();
    await remote.put('a', body);
    const into = new Uint8Array(body.length);
    expect(await remote.getInto('a', into)).toBe(body.length);
    // The server drops every idle connection (as one does after its keep-alive timeout).
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    into.fill(0);
    expect(await remote.getInto('a', into)).toBe(body.length);
    expect(Buffer.from(into).equals(body)).toBe(true);
    expect(seen.filter((r) => r.method === 'GET').map(sender)).toEqual(['lean', 'lean']);
    await remote.close();
  });

  it('a stall fails after the socket timeout and goes to the SDK', async () => {
    const remote = await open({ socketTimeoutMs: 300, maxAttempts: 2 });
    await remote.put('a', body);
    faults.push(() => 'handled');
    const into = new Uint8Array(body.length);
    expect(await remote.getInto('a', into)).toBe(body.length);
    expect(seen.filter((r) => r.method === 'GET').map(sender)).toEqual(['lean', 'sdk']);
    await remote.close();
  });
});

describe('S3 backend under failures', () => {
  it('retries throttling (503 SlowDown) and 500s, then succeeds', async () => {
    const remote = await open();
    faults.push((_q, res) => xmlError(res, 503, 'SlowDown'), (_q, res) => xmlError(res, 500, 'InternalError'));
    await remote.put('chunks/aa', Buffer.from('x'));
    expect(seen.filter((r) => r.method === 'PUT')).toHaveLength(3);
    await remote.close();
  });

  it('gives up on persistent throttling with REMOTE_THROTTLED (exit 7) naming the operation and key', async () => {
    const remote = await open();
    for (let i = 0; i < 3; i++) faults.push((_q, res) => xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.'));
    const err = await expectCode(remote.put('chunks/ab12', Buffer.from('x')), 'REMOTE_THROTTLED');
    expect(err.exitCode).toBe(7);
    expect(err.message).toMatch(/^PUT chunks\/ab12: .*SlowDown.*after 3 attempts/);
    await remote.close();
  });

  it('fails a stalled connection after the socket timeout, retries it, then reports REMOTE_UNAVAILABLE', async () => {
    const remote = await open({ socketTimeoutMs: 300, maxAttempts: 2 });
    faults.push(() => 'handled', () => 'handled', () => 'handled'); // never answer
    const started = Date.now();
    const err = await expectCode(remote.get('versions/v.json'), 'REMOTE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.message).toMatch(/^GET versions\/v\.json: /);
    // The lean GET gives up on its stall, then the SDK makes its own two attempts.
    expect(seen.map(sender)).toEqual(['lean', 'sdk', 'sdk']);
    await remote.close();
  });

  it('reports an unreachable endpoint as REMOTE_UNAVAILABLE', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const remote = await open({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    const err = await expectCode(remote.head('MODELCTL.json'), 'REMOTE_UNAVAILABLE');
    expect(err.message).toMatch(/^HEAD MODELCTL\.json: .*ECONNREFUSED/);
    expect(err.hint).toBeDefined();
    await remote.close();
  });

  it('maps 403 AccessDenied to REMOTE_ACCESS_DENIED with a permissions hint, never retried', async () => {
    const remote = await open();
    faults.push((_q, res) => xmlError(res, 403, 'AccessDenied', 'Access Denied'));
    const err = await expectCode(remote.put('x', Buffer.from('x')), 'REMOTE_ACCESS_DENIED');
    expect(err.hint).toMatch(/s3:PutObject/);
    expect(seen).toHaveLength(1);
    expect(`${err.message}${err.hint}`).not.toContain('fake-secret-for-tests');
    await remote.close();
  });

  it('retries a 409 ConditionalRequestConflict itself; a lasting one is PRECONDITION_FAILED', async () => {
    const remote = await open();
    faults.push((_q, res) => xmlError(res, 409, 'ConditionalRequestConflict'));
    await remote.put('models/m/tags/t.json', Buffer.from('a'), { condition: { ifAbsent: true } });
    expect(seen).toHaveLength(2);
    for (let i = 0; i < 10; i++) faults.push((_q, res) => xmlError(res, 409, 'ConditionalRequestConflict'));
    await expectCode(remote.put('models/m/tags/u.json', Buffer.from('a'), { condition: { ifAbsent: true } }), 'PRECONDITION_FAILED');
    await remote.close();
  });

  it('treats a conditional PUT whose answer was lost, and whose retry hits 412, as won when the bytes are ours', async () => {
    const remote = await open();
    // The write lands, then the connection drops before the answer: the SDK retries.
    faults.push((req, res, body) => {
      serve(req, { writeHead: () => ({ end: () => undefined }), end: () => undefined } as unknown as ServerResponse, body);
      res.socket?.destroy();
      return 'handled';
    });
    const { etag } = await remote.put('models/m/numbers/1.json', Buffer.from('{"version":"abc"}'), { condition: { ifAbsent: true } });
    expect(etag).toBe(objects.get('models/m/numbers/1.json')!.etag);
    expect(seen.filter((r) => r.method === 'PUT')).toHaveLength(2);

    // Same situation, but someone else's bytes are there: a real conflict.
    faults.push((req, res, body) => {
      serve(req, { writeHead: () => ({ end: () => undefined }), end: () => undefined } as unknown as ServerResponse, Buffer.from('theirs'));
      res.socket?.destroy();
      return 'handled';
    });
    await expectCode(remote.put('models/m/numbers/2.json', Buffer.from('ours'), { condition: { ifAbsent: true } }), 'PRECONDITION_FAILED');
    await remote.close();
  });

  it('sends plain (not aws-chunked) bodies, base64 ChecksumSHA256, unquoted If-Match and bytes=start-end ranges', async () => {
    const remote = await open();
    const body = Buffer.from('hello');
    const sha256 = createHash('sha256').update(body).digest();
    const { etag } = await remote.put('chunks/h', body, { sha256 });
    await remote.put('chunks/h', Buffer.from('again'), { condition: { ifMatch: `"${etag}"` } });
    await remote.get('chunks/h', { range: { start: 1, end: 3 } }).catch(() => undefined);
    const [put, casPut, get] = seen;
    expect(put!.headers['x-amz-checksum-sha256']).toBe(sha256.toString('base64'));
    expect(put!.headers['content-encoding'] ?? '').not.toMatch(/aws-chunked/);
    expect(String(put!.headers['x-amz-content-sha256'] ?? '')).not.toMatch(/STREAMING/);
    expect(put!.headers['if-none-match']).toBeUndefined();
    expect(casPut!.headers['if-match']).toBe(etag);
    expect(get!.headers.range).toBe('bytes=1-3');
    await remote.close();
  });

  it('treats If-Match on a missing key as PRECONDITION_FAILED (AWS answers 404 there)', async () => {
    const remote = await open();
    await expectCode(remote.put('models/m/stages/prod.json', Buffer.from('x'), { condition: { ifMatch: 'abc' } }), 'PRECONDITION_FAILED');
    await remote.close();
  });

  it('returns only the requested bytes when a server ignores Range', async () => {
    const remote = await open();
    await remote.put('r', Buffer.from('0123456789'));
    // The stand-in ignores Range entirely (200, whole body), like some proxies.
    expect((await remote.get('r', { range: { start: 2, end: 4 } }))!.body.toString()).toBe('234');
    expect((await remote.get('r', { range: { start: 8, end: 100 } }))!.body.toString()).toBe('89');
    await expectCode(remote.get('r', { range: { start: 10, end: 12 } }), 'RANGE_NOT_SATISFIABLE');
    await remote.close();
  });
});
