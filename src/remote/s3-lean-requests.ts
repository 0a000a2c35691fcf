/**
 * The lean requests (docs/design.md §7, "The lean GET" and "The lean PUT"): an object
 * download, or the upload of a chunk whose sha256 is known, sent as one SigV4-signed
 * `http(s).request` on the backend's own keep-alive agents, instead of through the SDK's
 * middleware stack. A pull is thousands of GETs and a push thousands of PUTs; profiled, the
 * SDK spent more CPU per request (middleware, endpoint rules, its stream wrapper) than the
 * transfer's hashing, and on plain http it hashed every uploaded byte again to sign it.
 *
 * It handles only what it can be sure of: for a GET a 200/206 (the body is handed to the
 * caller) and a 404 NoSuchKey ('missing'), for a PUT a 200. Anything else — another status,
 * an error before the headers, an endpoint or signing scheme it does not know — is
 * 'fallback': the caller redoes the request through the SDK, which owns retries and error
 * mapping, and stops using the lean path for that kind of request on this remote, so a store
 * or proxy that does not like these requests costs one extra request. Only unconditional PUTs
 * of content-addressed bytes go lean: sending one again is harmless, whatever the first did.
 */
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { SignatureV4 } from '@smithy/signature-v4';
import { PlainGetError, PlainHttpGets, type PlainGetResult } from './plain-http-get.js';
import type { ByteRange } from './remote.js';

/** The User-Agent of lean GETs: tells them apart from the SDK's requests in a server's log (and in tests). */
export const LEAN_GET_USER_AGENT = 'modelctl-lean-get';
/** The User-Agent of lean PUTs. */
export const LEAN_PUT_USER_AGENT = 'modelctl-lean-put';

/** What a GET answered with, whichever path sent it. */
export interface GetAnswer {
  body: Readable;
  contentLength: number | undefined;
  contentRange: string | undefined;
  etag: string | undefined;
}

/** 'fallback': the SDK must redo this GET (and, the caller decides, every later one). */
export type DirectGetResult = { kind: 'answer'; answer: GetAnswer } | { kind: 'missing' } | { kind: 'fallback' };
/** A lean PUT's answer: stored (with the ETag the store gave, if any), or the SDK must redo it. */
export type DirectPutResult = { kind: 'stored'; etag: string | undefined } | { kind: 'fallback' };

/** getInto's answer: the body read into place ('received'), or as get() answers (over https the caller copies the body). */
export type DirectIntoResult = { kind: 'received'; bytes: number } | DirectGetResult;

/** A lean GET whose answer began but whose body did not arrive whole: worth a new GET. */
export class BodyReadError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const FALLBACK = { kind: 'fallback' } as const;

interface Base {
  url: URL;
  signingRegion: string | undefined;
  signingName: string | undefined;
}

export class S3LeanRequests {
  private base: Promise<Base | null> | undefined;
  private readonly signer: SignatureV4;
  private givenUp = false;
  private putsGivenUp = false;
  private plain: PlainHttpGets | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly command: typeof GetObjectCommand,
    private readonly bucket: string,
    private readonly agents: { http: HttpAgent; https: HttpsAgent },
    private readonly timeouts: { connectionMs: number; socketMs: number },
  ) {
    const config = client.config;
    this.signer = new SignatureV4({
      credentials: config.credentials,
      region: config.region,
      service: 's3',
      sha256: config.sha256,
      // S3 signs the path as sent (already encoded once), not encoded twice.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  get enabled(): boolean {
    return !this.givenUp;
  }

  /** From now on the SDK sends every GET of this remote. */
  disable(): void {
    this.givenUp = true;
  }

  get putsEnabled(): boolean {
    return !this.putsGivenUp;
  }

  /** From now on the SDK sends every PUT of this remote. */
  disablePuts(): void {
    this.putsGivenUp = true;
  }

  /**
   * One unconditional PUT of `body` (whose sha256 is `sha256`) at `fullKey`; never throws.
   * The payload is signed with the known hash (nothing is hashed here) and the store checks
   * it, as it checks `x-amz-checksum-sha256`: a body damaged on the way is refused.
   */
  async put(fullKey: string, body: Buffer, sha256: Buffer): Promise<DirectPutResult> {
    const req = await this.signed('PUT', fullKey, {
      'x-amz-content-sha256': sha256.toString('hex'),
      'x-amz-checksum-sha256': sha256.toString('base64'),
      'content-length': String(body.length),
      'user-agent': LEAN_PUT_USER_AGENT,
    });
    if (req === null) return FALLBACK;
    return this.sendPut(req.url, req.path, req.headers, body);
  }

  /** One GET of `fullKey` (prefix included); never throws. */
  async get(fullKey: string, range: ByteRange | undefined): Promise<DirectGetResult> {
    const req = await this.signed('GET', fullKey, getHeaders(range));
    if (req === null) return FALLBACK;
    return this.send(req.url, req.path, req.headers);
  }

  /**
   * One GET of `fullKey` with its body read into `into` (plain-http-get.ts): 'received' with
   * the byte count, or a count larger than `into` when the object does not fit (not read).
   * Over https it is `get()` and the caller copies the body. Throws BodyReadError when the
   * answer had begun and its body was cut short: the caller retries that as a new GET.
   */
  async getInto(fullKey: string, into: Uint8Array): Promise<DirectIntoResult> {
    const req = await this.signed('GET', fullKey, getHeaders(undefined));
    if (req === null) return FALLBACK;
    if (req.url.protocol !== 'http:') return this.send(req.url, req.path, req.headers);
    this.plain ??= PlainHttpGets.forUrl(req.url, { connectTimeoutMs: this.timeouts.connectionMs, silenceMs: this.timeouts.socketMs });
    let r: PlainGetResult;
    try {
      r = await this.plain.get(req.path, req.headers, into);
    } catch (err) {
      if (err instanceof PlainGetError && err.answered) throw new BodyReadError(err.message, err.code);
      return FALLBACK;
    }
    if (r.kind === 'into' || r.kind === 'too-big') return r.status === 200 ? { kind: 'received', bytes: r.length } : FALLBACK;
    if (r.kind === 'other' && r.status === 404) return noSuchKey(r.body) ? { kind: 'missing' } : FALLBACK;
    return FALLBACK;
  }

  /** Closes the kept-alive plain connections. */
  close(): void {
    this.plain?.close();
  }

  /** The signed request of `method` on `fullKey`; null when the lean path cannot send it. */
  private async signed(method: 'GET' | 'PUT', fullKey: string, extra: Record<string, string>): Promise<{ url: URL; path: string; headers: Record<string, string> } | null> {
    // null: the endpoint needs another signing scheme, extra headers or a query.
    const base = await this.resolveBase(fullKey).catch(() => null);
    if (base === null) return null;
    const { url } = base;
    const path = `${url.pathname.replace(/\/+$/, '')}/${encodeKey(fullKey)}`;
    const headers: Record<string, string> = { host: url.host, ...extra };
    try {
      const signed = await this.signer.sign(
        { method, protocol: url.protocol, hostname: url.hostname, ...(url.port === '' ? {} : { port: Number(url.port) }), path, query: {}, headers },
        { ...(base.signingRegion === undefined ? {} : { signingRegion: base.signingRegion }), ...(base.signingName === undefined ? {} : { signingService: base.signingName }) },
      );
      return { url, path, headers: signed.headers };
    } catch {
      return null;
    }
  }

  private send(url: URL, path: string, headers: Record<string, string>): Promise<DirectGetResult> {
    return new Promise<DirectGetResult>((resolve) => {
      let settled = false;
      const settle = (r: DirectGetResult) => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      const req = this.request('GET', url, path, headers, (res) => this.answer(res, settle));
      req.on('error', () => settle(FALLBACK));
      req.end();
    });
  }

  private sendPut(url: URL, path: string, headers: Record<string, string>, body: Buffer): Promise<DirectPutResult> {
    return new Promise<DirectPutResult>((resolve) => {
      const req = this.request('PUT', url, path, headers, (res) => {
        // The answer's body (empty on success, an error document otherwise) is drained so
        // the socket goes back to the agent for the next request.
        res.resume();
        resolve(res.statusCode === 200 ? { kind: 'stored', etag: header(res, 'etag') } : FALLBACK);
      });
      req.on('error', () => resolve(FALLBACK));
      req.end(body);
    });
  }

  /**
   * A request on the backend's agents, with the silence and connection timeouts of every
   * lean request: silence on the socket ends it (an 'error', so a 'fallback'; for a GET whose
   * body had begun, a failed body read the caller retries). Node drops the listener when the
   * socket is freed.
   */
  private request(method: 'GET' | 'PUT', url: URL, path: string, headers: Record<string, string>, onAnswer: (res: IncomingMessage) => void) {
    const https = url.protocol === 'https:';
    const options = {
      method,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path,
      headers,
      agent: https ? this.agents.https : this.agents.http,
    };
    const req = (https ? httpsRequest : httpRequest)(options, onAnswer);
    req.setTimeout(this.timeouts.socketMs, () => {
      req.destroy(Object.assign(new Error(`the socket was silent for ${this.timeouts.socketMs} ms`), { code: 'ETIMEDOUT' }));
    });
    const connectTimer = setTimeout(() => {
      if (req.socket === null || req.socket === undefined || req.socket.connecting) req.destroy(new Error(`no connection within ${this.timeouts.connectionMs} ms`));
    }, this.timeouts.connectionMs);
    connectTimer.unref();
    const clear = () => clearTimeout(connectTimer);
    req.once('response', clear);
    req.once('error', clear);
    return req;
  }

  private answer(res: IncomingMessage, settle: (r: DirectGetResult) => void): void {
    const status = res.statusCode ?? 0;
    if (status === 200 || status === 206) {
      const length = res.headers['content-length'];
      settle({
        kind: 'answer',
        answer: {
          body: res,
          contentLength: length === undefined ? undefined : Number(length),
          contentRange: header(res, 'content-range'),
          etag: header(res, 'etag'),
        },
      });
      return;
    }
    if (status === 404) {
      // Only a NoSuchKey is "missing"; a NoSuchBucket (or anything unreadable) goes to the SDK.
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size <= 64 * 1024) parts.push(d);
      });
      res.on('end', () => settle(noSuchKey(Buffer.concat(parts)) ? { kind: 'missing' } : FALLBACK));
      res.on('error', () => settle(FALLBACK));
      return;
    }
    res.resume();
    settle(FALLBACK);
  }

  /** The bucket's base URL and signing properties, from the SDK's own endpoint rules. */
  private resolveBase(fullKey: string): Promise<Base | null> {
    this.base ??= (async () => {
      const endpoint = await getEndpointFromInstructions({ Bucket: this.bucket, Key: fullKey }, this.command, this.client.config as never);
      const schemes = (endpoint.properties?.authSchemes ?? []) as { name?: string; signingRegion?: string; signingName?: string }[];
      const scheme = schemes[0];
      if (scheme !== undefined && scheme.name !== 'sigv4') return null;
      if (endpoint.headers !== undefined && Object.keys(endpoint.headers).length > 0) return null;
      const url = new URL(endpoint.url.href);
      if (url.search !== '') return null;
      return { url, signingRegion: scheme?.signingRegion, signingName: scheme?.signingName };
    })();
    this.base.catch(() => {
      this.base = undefined;
    });
    return this.base;
  }
}

/** A GET's own headers: the payload is empty, so unsigned. */
function getHeaders(range: ByteRange | undefined): Record<string, string> {
  return {
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'user-agent': LEAN_GET_USER_AGENT,
    ...(range === undefined ? {} : { range: `bytes=${range.start}-${range.end}` }),
  };
}

/** S3's key encoding: every segment URI-encoded (RFC 3986 unreserved kept), slashes kept. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/** Whether an S3 error document is a NoSuchKey (a NoSuchBucket, or anything unreadable, is not). */
function noSuchKey(body: Buffer): boolean {
  return /<Code>([^<]*)<\/Code>/.exec(body.toString('utf8'))?.[1] === 'NoSuchKey';
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
