import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExitCode, ModelctlError, UsageError } from '../errors.js';
import { accessPolicyFor, checkHost, checkToken, tokenMatches, TOKEN_COOKIE, type AccessPolicy } from './access.js';
import { handleApi } from './api-routes.js';
import { ChangeStream } from './event-stream.js';
import { COMMON_HEADERS, HttpError, sendError } from './http-response.js';
import type { ServedSource } from './served-source.js';
import { UiAssets, uiDirectory } from './ui-assets.js';

/**
 * `modelctl serve` (docs/design.md §12): a read-only HTTP server over one served source — the
 * JSON API under /api/, the web UI at /, server-sent events at /api/events/stream. Built on
 * node:http alone: the routes are few and fixed, and file streaming needs nothing more.
 */

export interface ServeOptions {
  source: ServedSource;
  /** Address to bind (default 127.0.0.1). Anything but loopback needs `tokenFile`. */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** File holding the bearer token. */
  tokenFile?: string;
  /** How often the index is checked for new events (default 1000 ms). */
  eventPollMs?: number;
  /** Where the server writes its log lines (default: nowhere). */
  log?: (line: string) => void;
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port/` as clients should open it. */
  url: string;
  host: string;
  port: number;
  /** True when requests need the bearer token. */
  tokenRequired: boolean;
  /** True when the web UI's files were found (a source checkout must run `npm run build`). */
  ui: boolean;
  changes: ChangeStream;
  /** Stops accepting, ends open streams and connections, closes the source. */
  close(): Promise<void>;
}

/**
 * Binds the server and resolves once it listens. A non-loopback host without a token file is
 * a UsageError (2) before anything binds; a port in use is a UsageError (2) naming --port.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const policy = accessPolicyFor(host, opts.tokenFile);
  const log = opts.log ?? (() => undefined);
  const source = opts.source;
  const changes = new ChangeStream(source, opts.eventPollMs ?? 1000, log);
  const assets = new UiAssets(uiDirectory());
  const server = createServer((req, res) => {
    void answer(req, res, { source, changes, assets, policy, log });
  });
  // Streams to slow clients may take long; idle keep-alive sockets need not.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  await listen(server, host, opts.port ?? 8080);
  changes.start();
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    tokenRequired: policy.token !== null,
    ui: assets.available,
    changes,
    async close() {
      changes.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await source.close();
    },
  };
}

interface Served {
  source: ServedSource;
  changes: ChangeStream;
  assets: UiAssets;
  policy: AccessPolicy;
  log: (line: string) => void;
}

async function answer(req: IncomingMessage, res: ServerResponse, s: Served): Promise<void> {
  try {
    checkHost(req, s.policy);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `modelctl serve is read-only: ${String(req.method).slice(0, 20)} is not allowed`, {
        headers: { Allow: 'GET, HEAD' },
        hint: 'change the registry with the modelctl CLI (promote, tag, push)',
      });
    }
    // Runs of slashes are one (as nginx's merge_slashes): `$URL/api/…` with the printed URL's
    // trailing '/' sends `//api/…`, which URL parsing would otherwise read as a host name.
    const url = new URL(mergeSlashes(req.url ?? '/'), 'http://server.invalid');
    const segments = decodeSegments(url.pathname);
    if (segments[0] === 'api') {
      checkToken(req, s.policy);
      await handleApi({ req, res, url, source: s.source, changes: s.changes }, segments.slice(1));
      return;
    }
    // The UI: opening it once as /?token=… stores the token in a cookie and drops it from the address.
    const given = url.searchParams.get('token');
    if (s.policy.token !== null && given !== null) {
      if (!tokenMatches(s.policy, given)) checkToken(req, s.policy);
      res.writeHead(303, {
        ...COMMON_HEADERS,
        Location: url.pathname,
        'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`,
      });
      res.end();
      return;
    }
    if (!s.assets.send(req, res, url.pathname)) {
      if (url.pathname === '/' && !s.assets.available) {
        throw new HttpError(404, 'UI_NOT_BUILT', 'the web UI files are missing from this installation', {
          exitCode: 3,
          hint: 'in a source checkout run `npm run build`; the JSON API is at /api/',
        });
      }
      throw new HttpError(404, 'NOT_FOUND', `nothing at ${url.pathname.slice(0, 200)}`, { exitCode: 3, hint: 'the web UI is at /, the API under /api/' });
    }
  } catch (err) {
    // A client that went away mid-stream is not an error worth a log line.
    if (res.destroyed || req.destroyed) return;
    sendError(req, res, err, s.log);
  }
}

/** The request target with repeated slashes in its path (not its query) merged into one. */
function mergeSlashes(target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  return path.replace(/\/{2,}/g, '/') + (q < 0 ? '' : target.slice(q));
}

/** The path's segments, each percent-decoded (so `team%2Ffraud@v1` is one segment). */
function decodeSegments(pathname: string): string[] {
  const raw = pathname.split('/').slice(1);
  if (raw.length && raw[raw.length - 1] === '') raw.pop();
  return raw.map((s) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new UsageError('INVALID_PATH', 'the request path is not valid percent-encoding');
    }
    if (d.includes('\0')) throw new UsageError('INVALID_PATH', 'the request path contains a NUL character');
    return d;
  });
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new UsageError('PORT_IN_USE', `port ${port} on ${host} is in use`, { hint: 'choose another with --port (0 picks a free one)' }));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        reject(new UsageError('INVALID_HOST', `cannot bind to ${host}: no such address on this machine`, { hint: 'use --host 127.0.0.1, 0.0.0.0 or one of this machine’s addresses' }));
      } else if (err.code === 'EACCES') reject(new UsageError('PORT_NOT_ALLOWED', `not allowed to bind port ${port}`, { hint: 'ports below 1024 need privileges; use --port 8080' }));
      else reject(new ModelctlError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${err.message}`, { exitCode: ExitCode.BUG }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
