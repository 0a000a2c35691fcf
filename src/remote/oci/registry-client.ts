/**
 * HTTP to one OCI registry (distribution spec v1.1): keep-alive connections, the auth
 * handshake (registry-auth.ts), redirects for blob reads, bounded retries of transient
 * failures, and the mapping of failures onto modelctl's errors (exit 7 for the network,
 * credentials and permissions). Knows requests and statuses, not artifacts.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelctlError, NotFoundError, RemoteError, UsageError, codeOf } from '../../errors.js';
import { PlainGetError, PlainHttpGets } from '../plain-http-get.js';
import { parseContentRange } from '../remote.js';
import { backoffDelay } from '../retry.js';
import { findRegistryCredentials, type RegistryCredentials } from './docker-credentials.js';
import { isLoopbackHost } from './oci-url.js';
import { basicAuthorization, parseAuthenticate, parseTokenResponse, tokenRequest, type AuthChallenge } from './registry-auth.js';

/** How to reach a registry. */
export interface RegistryClientOptions {
  /** `host[:port]`. */
  registry: string;
  /** Plain HTTP instead of TLS: allowed for loopback hosts, or when the remote is configured with plain_http. */
  plainHttp: boolean;
  /** Concurrent connections (the push/pull --jobs). */
  maxSockets?: number;
  env?: NodeJS.ProcessEnv;
  /** Attempts for a request that failed transiently (default 5). */
  attempts?: number;
  /** Idle socket timeout in ms (default 120 s). */
  timeoutMs?: number;
  /** Credentials to use instead of looking them up (tests). */
  credentials?: RegistryCredentials | null;
}

/** A request body: bytes, or a stream made afresh for every attempt (a retry cannot reuse a consumed stream). */
export type RequestBody = Buffer | { length: number; open: () => Readable };

/** One request to the registry. */
export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path on the registry (`/v2/…`, query included) or an absolute URL it gave (an upload Location). */
  path: string;
  /** Token scopes, e.g. `repository:team/fraud:pull,push`. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Statuses returned to the caller (anything else is an error); default [200]. */
  expect?: readonly number[];
  /** Return the body as a stream instead of reading it (blob downloads). */
  stream?: boolean;
  /** Largest body read into memory (default 8 MiB). */
  maxBody?: number;
  /** Retry transient failures (default: true except POST and PATCH, which are not idempotent). */
  retry?: boolean;
}

/** A registry's answer. */
export interface RegistryResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, unless `stream` was asked for (then empty). */
  body: Buffer;
  /** With `stream`: the body, to be consumed or destroyed by the caller. */
  stream?: http.IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_ERRNO = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'SOCKET_TIMEOUT', 'UND_ERR_SOCKET']);

/** A client for one registry; share one per session (it caches tokens and connections). */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: URL;
  private readonly agent: http.Agent;
  private readonly opts: RegistryClientOptions;
  private credentials: RegistryCredentials | null | undefined;
  /** Basic header once the registry asked for Basic. */
  private basic: string | null = null;
  private bearerChallenge: AuthChallenge | null = null;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly tokenFetches = new Map<string, Promise<string>>();
  /** Connections whose GET bodies are read into place (plain HTTP only), made on first use. */
  private plain: PlainHttpGets | undefined;

  constructor(opts: RegistryClientOptions) {
    this.opts = opts;
    this.registry = opts.registry;
    this.baseUrl = new URL(`${opts.plainHttp ? 'http' : 'https'}://${opts.registry}`);
    const agentOpts = { keepAlive: true, maxSockets: Math.max(1, opts.maxSockets ?? 8), scheduling: 'lifo' as const };
    this.agent = opts.plainHttp ? new http.Agent(agentOpts) : new https.Agent(agentOpts);
    if (opts.credentials !== undefined) this.credentials = opts.credentials;
  }

  /** Closes idle connections; the client must not be used afterwards. */
  close(): void {
    this.agent.destroy();
    this.plain?.close();
  }

  /**
   * Bytes [start, start + into.length) of the blob at `path`, read straight into `into`
   * (remote/plain-http-get.ts; docs/design.md §13, "Bodies read into place"): the byte count,
   * or null whenever this way cannot serve them — a registry on https, a redirect (blobs in
   * object storage), a new auth challenge, a range not honoured, a failed or odd answer —
   * and the caller then streams the blob as before (which retries, follows and resumes).
   */
  async getRangeInto(path: string, scopes: readonly string[], start: number, into: Uint8Array): Promise<number | null> {
    if (this.baseUrl.protocol !== 'http:' || into.length === 0) return null;
    let authorization: string | null;
    try {
      authorization = await this.authorizationFor(scopes);
    } catch {
      return null;
    }
    this.plain ??= PlainHttpGets.forUrl(this.baseUrl, { connectTimeoutMs: 10_000, silenceMs: this.opts.timeoutMs ?? 120_000 });
    const end = start + into.length - 1;
    const headers: Record<string, string> = { host: this.baseUrl.host, 'user-agent': 'modelctl', range: `bytes=${start}-${end}` };
    if (authorization) headers.authorization = authorization;
    try {
      const r = await this.plain.get(path, headers, into);
      if (r.kind !== 'into' || r.status !== 206) return null;
      const served = parseContentRange(r.headers.get('content-range'));
      if (!served || served.start !== start || served.end - start + 1 !== r.length) return null;
      return r.length;
    } catch (err) {
      if (err instanceof PlainGetError) return null;
      throw err;
    }
  }

  /** Where the credentials came from (a file or helper name), or null when anonymous. Never the secret. */
  credentialSource(): string | null {
    return this.loadCredentials()?.source ?? null;
  }

  private loadCredentials(): RegistryCredentials | null {
    if (this.credentials === undefined) this.credentials = findRegistryCredentials(this.registry, this.opts.env ?? process.env);
    return this.credentials;
  }

  private plainHttpAllowed = (host: string): boolean => this.opts.plainHttp || isLoopbackHost(host);

  /**
   * Sends a request, authenticating as the registry asks (once per request), retrying
   * transient failures with backoff, following redirects of reads. Throws RemoteError (7)
   * for a status not in `expect` (with the registry's error code), NotFoundError is never
   * thrown here: callers put 404 in `expect` when absence is an answer.
   */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const attempts = req.retry === false || ((req.method === 'POST' || req.method === 'PATCH') && req.retry !== true) ? 1 : Math.max(1, this.opts.attempts ?? 5);
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.authenticated(req);
        if (RETRY_STATUS.has(res.status) && !(req.expect ?? [200]).includes(res.status) && attempt + 1 < attempts) {
          res.stream?.destroy();
          await sleep(retryAfter(res) ?? backoffDelay(attempt, 200, 5000));
          continue;
        }
        return this.checkStatus(req, res);
      } catch (err) {
        if (attempt + 1 >= attempts || !isTransient(err)) throw this.networkError(err, req);
        await sleep(backoffDelay(attempt, 200, 5000));
      }
    }
  }

  private async authenticated(req: RegistryRequest): Promise<RegistryResponse> {
    let res = await this.send(req, await this.authorizationFor(req.scopes));
    if (res.status !== 401) return res;
    res.stream?.destroy();
    const challenges = parseAuthenticate(String(res.headers['www-authenticate'] ?? ''));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      this.bearerChallenge = bearer;
      this.tokens.delete(scopeKey(req.scopes));
    } else if (basic) {
      const creds = this.loadCredentials();
      if (!creds || creds.kind !== 'basic' || this.basic !== null) return res; // no (more) credentials to try
      this.basic = basicAuthorization(creds.username, creds.password);
    } else {
      return res;
    }
    res = await this.send(req, await this.authorizationFor(req.scopes));
    return res;
  }

  private async authorizationFor(scopes: readonly string[]): Promise<string | null> {
    if (this.bearerChallenge) return `Bearer ${await this.token(scopes)}`;
    return this.basic;
  }

  private async token(scopes: readonly string[]): Promise<string> {
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    let pending = this.tokenFetches.get(key);
    if (!pending) {
      pending = this.fetchToken(scopes).finally(() => this.tokenFetches.delete(key));
      this.tokenFetches.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(scopes: readonly string[]): Promise<string> {
    const creds = this.loadCredentials();
    const tr = tokenRequest(this.bearerChallenge!, scopes, creds, this.plainHttpAllowed);
    for (let attempt = 0; ; attempt++) {
      let res: RawResponse;
      try {
        res = await rawRequest(tr.url, tr.method, tr.headers, tr.body === undefined ? undefined : Buffer.from(tr.body), tr.url.protocol === 'https:' ? https.globalAgent : http.globalAgent, this.opts.timeoutMs ?? 120_000, false, 1024 * 1024);
      } catch (err) {
        if (attempt < 2 && isTransient(err)) {
          await sleep(backoffDelay(attempt, 200, 2000));
          continue;
        }
        throw new RemoteError('REGISTRY_UNREACHABLE', `cannot reach the token service of ${this.registry} (${tr.url.origin}): ${errText(err)}`, { cause: err });
      }
      if (res.status === 401 || res.status === 403) {
        throw new RemoteError('REGISTRY_UNAUTHORIZED', `the token service of ${this.registry} refused ${creds ? `the credentials from ${creds.source}` : 'anonymous access'}`, {
          hint: creds ? `log in again with \`docker login ${this.registry}\`` : `log in with \`docker login ${this.registry}\` (modelctl reads ~/.docker/config.json or $DOCKER_CONFIG)`,
        });
      }
      if (res.status !== 200) {
        if (attempt < 2 && RETRY_STATUS.has(res.status)) {
          await sleep(backoffDelay(attempt, 200, 2000));
          continue;
        }
        throw new RemoteError('REGISTRY_AUTH_FAILED', `the token service of ${this.registry} answered ${res.status}`);
      }
      const t = parseTokenResponse(res.body);
      this.tokens.set(scopeKey(scopes), t);
      return t.token;
    }
  }

  private async send(req: RegistryRequest, authorization: string | null): Promise<RegistryResponse> {
    let url = new URL(req.path, this.baseUrl);
    if (url.protocol === 'http:' && !this.plainHttpAllowed(url.hostname)) {
      throw new UsageError('INSECURE_REGISTRY_URL', `the registry sent modelctl to ${url.origin}, which is not https`);
    }
    const headers: Record<string, string> = { 'user-agent': 'modelctl', ...req.headers };
    for (let redirects = 0; ; redirects++) {
      const sameHost = url.host === this.baseUrl.host;
      const h = { ...headers };
      if (authorization && sameHost) h.authorization = authorization;
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : req.body;
      if (body !== undefined) h['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.length);
      const agent = sameHost ? this.agent : url.protocol === 'https:' ? https.globalAgent : http.globalAgent;
      const res = await rawRequest(url, req.method, h, body, agent, this.opts.timeoutMs ?? 120_000, !!req.stream, req.maxBody ?? 8 * 1024 * 1024);
      if ((req.method === 'GET' || req.method === 'HEAD') && [301, 302, 303, 307, 308].includes(res.status) && res.headers.location && redirects < 5) {
        res.stream?.destroy();
        url = new URL(String(res.headers.location), url);
        if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.plainHttpAllowed(url.hostname))) {
          throw new RemoteError('INSECURE_REDIRECT', `${this.registry} redirected a download to ${url.origin}, which is not https`);
        }
        continue;
      }
      return { ...res, url };
    }
  }

  /**
   * `text` (a registry's own error message) with every credential this client holds or
   * sent replaced: a registry or proxy that echoes the request's Authorization header into
   * its error must not make modelctl print it.
   */
  private scrub(text: string | null): string | null {
    if (text === null) return null;
    const secrets = new Set<string>();
    const creds = this.credentials ?? null;
    if (creds?.kind === 'basic') {
      secrets.add(creds.password);
      secrets.add(Buffer.from(`${creds.username}:${creds.password}`).toString('base64'));
    }
    if (creds?.kind === 'identity-token') secrets.add(creds.token);
    for (const t of this.tokens.values()) secrets.add(t.token);
    let out = text;
    for (const s of secrets) if (s.length >= 4) out = out.split(s).join('REDACTED');
    // Whatever follows an auth scheme name is a credential, whoever it belongs to.
    return out.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 REDACTED');
  }

  private checkStatus(req: RegistryRequest, res: RegistryResponse): RegistryResponse {
    if ((req.expect ?? [200]).includes(res.status)) return res;
    res.stream?.destroy();
    const parsed = registryError(res.body);
    const code = parsed.code;
    const message = this.scrub(parsed.message);
    const what = `${req.method} ${redactPath(res.url)}`;
    if (res.status === 401) {
      const creds = this.loadCredentials();
      throw new RemoteError('REGISTRY_UNAUTHORIZED', `${this.registry} refused ${creds ? `the credentials from ${creds.source}` : 'anonymous access'} (${what})`, {
        hint: `log in with \`docker login ${this.registry}\` (modelctl reads $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json)`,
      });
    }
    if (res.status === 403) {
      throw new RemoteError('REGISTRY_DENIED', `${this.registry} denied ${what}${message ? `: ${message}` : ''}`, { hint: 'ask for push (or pull) permission on that repository' });
    }
    if (res.status === 413) {
      throw new RemoteError('MANIFEST_TOO_LARGE', `${this.registry} refused ${what} as too large`, { hint: 'the registry limits manifest size (4 MiB for the distribution registry)' });
    }
    throw new RemoteError(code ? `REGISTRY_${code}` : 'REGISTRY_ERROR', `${this.registry} answered ${res.status} to ${what}${code ? ` (${code}${message ? `: ${message}` : ''})` : ''}`, {
      data: { status: res.status, ...(code ? { registryCode: code } : {}) },
    });
  }

  private networkError(err: unknown, req: RegistryRequest): ModelctlError {
    if (err instanceof ModelctlError) return err;
    const text = errText(err);
    const tlsToPlain = /wrong version number|EPROTO|packet length too long/i.test(text);
    return new RemoteError('REGISTRY_UNREACHABLE', `cannot reach ${this.registry} (${req.method} ${redactPath(new URL(req.path, this.baseUrl))}): ${text}`, {
      cause: err,
      hint: tlsToPlain
        ? `it does not speak TLS: for a registry on plain HTTP add the remote with \`--plain-http\` (loopback hosts use plain HTTP by themselves)`
        : 'check the host and port, and that the registry is running',
    });
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

function retryAfter(res: RegistryResponse): number | null {
  const v = Number(res.headers['retry-after']);
  return Number.isFinite(v) && v >= 0 ? Math.min(v, 30) * 1000 : null;
}

function isTransient(err: unknown): boolean {
  if (err instanceof ModelctlError) return false;
  const code = codeOf(err);
  return code !== undefined && TRANSIENT_ERRNO.has(code);
}

function errText(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return code ? `${code}${message && !message.includes(code) ? ` ${message}` : ''}` : message;
}

/** A registry URL as it may be printed: the upload state and any query values left out. */
export function redactPath(url: URL): string {
  return `${url.pathname}${url.search ? '?…' : ''}`;
}

/** The first error of a registry's JSON error body (`{"errors":[{"code","message"}]}`), if any. */
export function registryError(body: Buffer): { code: string | null; message: string | null } {
  try {
    const doc = JSON.parse(body.subarray(0, 64 * 1024).toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = Array.isArray(doc.errors) ? doc.errors[0] : undefined;
    const code = typeof first?.code === 'string' && /^[A-Z_]{1,64}$/.test(first.code) ? first.code : null;
    const message = typeof first?.message === 'string' ? first.message.slice(0, 300).replace(/[\u0000-\u001f]/g, ' ') : null;
    return { code, message };
  } catch {
    return { code: null, message: null };
  }
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  stream?: http.IncomingMessage;
}

/** One HTTP exchange; a streamed body is piped in; the answer is buffered (bounded) unless `stream`. */
function rawRequest(url: URL, method: string, headers: Record<string, string>, body: RequestBody | undefined, agent: http.Agent, timeoutMs: number, stream: boolean, maxBody: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    let source: Readable | null = null;
    const req = mod.request(url, { method, headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (stream && status >= 200 && status < 300 && method !== 'HEAD') {
        resolve({ status, headers: res.headers, body: Buffer.alloc(0), stream: res });
        return;
      }
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          res.destroy(Object.assign(new Error(`answer larger than ${maxBody} bytes`), { code: 'BODY_TOO_LARGE' }));
          return;
        }
        parts.push(c);
      });
      res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer for ${Math.round(timeoutMs / 1000)} s`), { code: 'SOCKET_TIMEOUT' })));
    req.on('error', (err) => {
      source?.destroy();
      reject(err);
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      source = body.open();
      source.on('error', (err) => req.destroy(err));
      source.pipe(req);
    }
  });
}

/** NotFoundError for a registry repository or reference that is not there (for callers that treat 404 as an error). */
export function registryNotFound(what: string, hint: string): NotFoundError {
  return new NotFoundError('REGISTRY_NOT_FOUND', `${what} is not in the registry`, { hint });
}
