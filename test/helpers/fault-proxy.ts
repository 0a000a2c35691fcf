/**
 * A fault-injecting HTTP proxy for S3 traffic: modelctl talks to it as its endpoint
 * (`--endpoint http://127.0.0.1:<port>`), it forwards to a real server (s3rver, RGW) and,
 * on a seeded random schedule, breaks requests the way bad networks and busy stores do:
 *
 *   reset-mid-request     the connection is reset while the request body is still arriving
 *   reset-before-request  the connection is reset before the request reaches the server
 *   reset-after-headers   the server handled it; the client gets the status line, then a reset
 *   reset-mid-body        the server handled it; half the body arrives, then a reset
 *   truncate              Content-Length promises more than is sent, then the connection ends
 *   error-500             500 InternalError (XML body, as S3 sends it), not forwarded
 *   error-503             503 ServiceUnavailable, not forwarded
 *   slowdown              503 SlowDown, not forwarded
 *   stall                 accepted, read, never answered (the client must time out)
 *   stall-mid-body        the server handled it; half the body arrives, then silence
 *
 * Faults are transient by construction: one request (method + path + range) is faulted at
 * most `maxConsecutive` times in a row, so a client that retries at least that many times
 * always gets through. `persistent` makes a matching request fail every time instead, to
 * test what happens once retries run out. Request and response bodies are buffered (S3
 * objects here are ≤ 4 MiB chunks), and the Host header is forwarded unchanged so SigV4
 * signatures stay valid against servers that check them (RGW).
 */
import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const FAULT_KINDS = [
  'reset-mid-request',
  'reset-before-request',
  'reset-after-headers',
  'reset-mid-body',
  'truncate',
  'error-500',
  'error-503',
  'slowdown',
  'stall',
  'stall-mid-body',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that need a response body to break; bodiless answers (HEAD, PUT) get a reset after headers instead. */
const BODY_FAULTS = new Set<FaultKind>(['reset-mid-body', 'truncate', 'stall-mid-body']);

export interface FaultProxyOptions {
  /** The real server, e.g. http://127.0.0.1:40123. */
  upstream: string;
  /** Seed of the schedule (same seed, same sequence of decisions for the same request order). */
  seed: number;
  /** Probability that a request is faulted (0..1). */
  rate: number;
  /** Relative weights of the fault kinds (default: all equal); a kind with weight 0 never happens. */
  weights?: Partial<Record<FaultKind, number>>;
  /** At most this many faults in a row on one request identity (default 2). */
  maxConsecutive?: number;
  /** Which requests may be faulted at all (default: every request). */
  eligible?: (req: RequestInfo) => boolean;
}

/** What the proxy knows about a request when it decides. */
export interface RequestInfo {
  method: string;
  /** Path and query as sent, e.g. /bucket/prefix/chunks/ab12… */
  url: string;
  range: string | undefined;
  /** The request's headers as received (e.g. to tell which code path sent it). */
  headers: IncomingHttpHeaders;
}

/** Requests parked by FaultProxy.hold. */
export interface Barrier {
  /** Resolves once `count` matching requests are held. */
  arrived: Promise<void>;
  /** How many are held now. */
  held(): number;
  /** Forwards every held request (and stops holding new ones). */
  release(): void;
}

/** A fault applied to every matching request, e.g. "503 forever on chunk PUTs". */
export interface PersistentFault {
  kind: FaultKind;
  match: (req: RequestInfo) => boolean;
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  /** Faults injected so far, by kind. */
  tally(): Record<FaultKind, number> & { total: number; requests: number };
  /** Makes matching requests fail every time (until cleared with null). */
  setPersistent(fault: PersistentFault | null): void;
  /** Turns random faults on or off (e.g. off while setting up, on for the operation under test). */
  setRate(rate: number): void;
  /**
   * A barrier: matching requests are held (read, not forwarded) until `count` of them have
   * arrived; `arrived` resolves then, and `release()` forwards all of them at once. Makes
   * two clients' writes really race on the server. Held requests count as no fault.
   */
  hold(match: (req: RequestInfo) => boolean, count: number): Barrier;
  /** Requests seen, oldest first (method and url), for assertions. */
  log(): RequestInfo[];
  stop(): Promise<void>;
}

/** mulberry32: a tiny, fast, seedable PRNG — decisions are reproducible from the seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts the proxy on 127.0.0.1 and a free port. */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(opts.upstream);
  const random = seededRandom(opts.seed);
  let rate = opts.rate;
  const maxConsecutive = opts.maxConsecutive ?? 2;
  const kinds = FAULT_KINDS.filter((k) => (opts.weights?.[k] ?? 1) > 0);
  const weightSum = kinds.reduce((s, k) => s + (opts.weights?.[k] ?? 1), 0);
  const counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  let requests = 0;
  const streak = new Map<string, number>();
  const seen: RequestInfo[] = [];
  let persistent: PersistentFault | null = null;
  let barrier: { match: (req: RequestInfo) => boolean; count: number; parked: (() => void)[]; arrived: () => void } | null = null;
  const sockets = new Set<Socket>();
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const pick = (info: RequestInfo): FaultKind | null => {
    if (persistent !== null && persistent.match(info)) return persistent.kind;
    if (opts.eligible !== undefined && !opts.eligible(info)) return null;
    // Draw both numbers every time so the schedule does not depend on the streak state.
    const r = random();
    const w = random() * weightSum;
    const id = `${info.method} ${info.url} ${info.range ?? ''}`;
    const inARow = streak.get(id) ?? 0;
    if (r >= rate || inARow >= maxConsecutive) {
      streak.delete(id);
      return null;
    }
    streak.set(id, inARow + 1);
    let acc = 0;
    for (const k of kinds) {
      acc += opts.weights?.[k] ?? 1;
      if (w < acc) return k;
    }
    return kinds[kinds.length - 1] ?? null;
  };

  const server: Server = createServer((req, res) => {
    requests++;
    const info: RequestInfo = { method: req.method ?? 'GET', url: req.url ?? '/', range: header(req.headers, 'range'), headers: req.headers };
    seen.push(info);
    let fault = pick(info);
    const parts: Buffer[] = [];
    let received = 0;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (fault === 'reset-mid-request' && !(declared >= 2)) fault = 'reset-before-request'; // no body to cut
    req.on('data', (d: Buffer) => {
      parts.push(d);
      received += d.length;
      if (fault === 'reset-mid-request' && received >= declared / 2 && !req.socket.destroyed) {
        count('reset-mid-request');
        req.socket.resetAndDestroy?.() ?? req.socket.destroy();
      }
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (fault === 'reset-mid-request') return;
      const body = Buffer.concat(parts);
      const go = () => void handle(req, res, info, body, fault).catch(() => res.socket?.destroy());
      const b = barrier;
      if (b !== null && fault === null && b.match(info)) {
        b.parked.push(go);
        if (b.parked.length === b.count) b.arrived();
        return;
      }
      go();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 30_000;

  const count = (k: FaultKind) => {
    counts[k]++;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, body: Buffer, fault: FaultKind | null): Promise<void> {
    switch (fault) {
      case 'reset-before-request':
        count(fault);
        return void req.socket.destroy();
      case 'error-500':
        count(fault);
        return xmlError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      case 'error-503':
        count(fault);
        return xmlError(res, 503, 'ServiceUnavailable', 'Service is unable to handle request.');
      case 'slowdown':
        count(fault);
        return xmlError(res, 503, 'SlowDown', 'Please reduce your request rate.');
      case 'stall':
        count(fault);
        return; // hold the socket; the client's timeout must end it
      default:
    }
    const answer = await forward(req, body);
    let kind = fault;
    const hasBody = info.method !== 'HEAD' && answer.body.length >= 2;
    if (kind !== null && BODY_FAULTS.has(kind) && !hasBody) kind = 'reset-after-headers';
    if (kind === null) {
      res.writeHead(answer.status, answer.headers);
      return void res.end(answer.body);
    }
    count(kind);
    // Keep the upstream's Content-Length: the client must notice the missing bytes itself.
    res.writeHead(answer.status, answer.headers);
    res.flushHeaders();
    const half = answer.body.subarray(0, Math.max(1, Math.floor(answer.body.length / 2)));
    if (kind === 'reset-after-headers') {
      res.socket?.resetAndDestroy?.() ?? res.socket?.destroy();
      return;
    }
    res.write(half);
    if (kind === 'reset-mid-body') {
      setImmediate(() => res.socket?.resetAndDestroy?.() ?? res.socket?.destroy());
    } else if (kind === 'truncate') {
      setImmediate(() => res.socket?.end()); // a clean FIN: only the length says bytes are missing
    }
    // stall-mid-body: nothing more, ever
  }

  function forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const headers = { ...req.headers };
    // Not signed by SigV4; the proxy already answered "100 Continue" itself.
    delete headers.expect;
    delete headers.connection;
    headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const up = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        (upRes) => {
          const parts: Buffer[] = [];
          upRes.on('data', (d: Buffer) => parts.push(d));
          upRes.on('error', reject);
          upRes.on('end', () => {
            const h = { ...upRes.headers };
            delete h.connection;
            delete h['keep-alive'];
            delete h['transfer-encoding'];
            const b = Buffer.concat(parts);
            if (req.method !== 'HEAD') h['content-length'] = String(b.length);
            resolve({ status: upRes.statusCode ?? 502, headers: h, body: b });
          });
        },
      );
      up.on('error', reject);
      up.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    tally: () => ({ ...counts, total: Object.values(counts).reduce((s, n) => s + n, 0), requests }),
    setPersistent: (f) => {
      persistent = f;
    },
    setRate: (r) => {
      rate = r;
    },
    hold: (match, count) => {
      let arrived!: () => void;
      const promise = new Promise<void>((resolve) => (arrived = resolve));
      const b = { match, count, parked: [] as (() => void)[], arrived };
      barrier = b;
      return {
        arrived: promise,
        held: () => b.parked.length,
        release: () => {
          if (barrier === b) barrier = null;
          for (const go of b.parked.splice(0)) go();
        },
      };
    },
    log: () => [...seen],
    stop: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Formats a tally as one line, e.g. for the test output. */
export function formatTally(t: ReturnType<FaultProxy['tally']>): string {
  const parts = FAULT_KINDS.filter((k) => t[k] > 0).map((k) => `${k} ${t[k]}`);
  return `${t.total} faults in ${t.requests} requests${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
