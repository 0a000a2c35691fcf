/**
 * GETs over plain HTTP/1.1 whose bodies the kernel reads straight into the caller's memory
 * (docs/design.md §7, "Bodies read into place"). Node's HTTP client hands a body over as a
 * stream of fresh 16–64 KiB Buffers; a pull then pays, per byte, the parser's JavaScript, the
 * garbage of those Buffers and one more copy into the chunk's slot: profiled on a 1 GiB pull,
 * 3.2 s of CPU of the thread that talks to the network. Here a socket's reads go into a
 * buffer the caller chooses (`net.Socket`'s `onread` with a buffer function): the response
 * head into a small buffer of the connection, the body into the bytes of `into` it belongs
 * at, so no byte is copied in JavaScript and nothing is allocated per read.
 *
 * It reads only what it can be sure of: a head of at most HEAD_BYTES, then a body with a
 * Content-Length (a 2xx body up to `into`'s size, another body up to SMALL_BODY_BYTES). An
 * answer it cannot read so (chunked, no length, a huge head) is `unsupported` and its
 * connection is closed; the caller then asks another way. Connections are kept alive and
 * reused, one request at a time each; a reused connection the server closed before
 * answering is retried once on a new one (a GET is safe to repeat).
 */
import { connect, type Socket } from 'node:net';

/** The response head (status line and headers) must fit here. */
const HEAD_BYTES = 16 * 1024;
/** A non-2xx body (an S3 error document) is read whole up to this size. */
const SMALL_BODY_BYTES = 64 * 1024;
/** An idle kept-alive connection is closed after this long (servers drop theirs after 5 s and more). */
const IDLE_MS = 4_000;
/** Idle connections kept per origin. */
const MAX_IDLE = 64;

/** What a GET answered. Header names are lower case. */
export type PlainGetResult =
  /** A 2xx whose body (`length` bytes) is now in `into[0, length)`. */
  | { kind: 'into'; status: number; headers: Map<string, string>; length: number }
  /** A 2xx whose body is longer than `into`: not read, the connection closed. */
  | { kind: 'too-big'; status: number; headers: Map<string, string>; length: number }
  /** Any other status, with its (small) body. */
  | { kind: 'other'; status: number; headers: Map<string, string>; body: Buffer }
  /** An answer this reader does not read (see above); nothing of it is used. */
  | { kind: 'unsupported'; reason: string };

/**
 * A GET that failed. `answered`: the head had arrived (the body was cut short, stalled or
 * overran) — worth a new GET; otherwise nothing usable came back.
 */
export class PlainGetError extends Error {
  constructor(
    message: string,
    readonly answered: boolean,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface PlainHttpOptions {
  host: string;
  port: number;
  /** A connection not made within this long fails. */
  connectTimeoutMs: number;
  /** Silence this long while a request waits for bytes fails it. */
  silenceMs: number;
}

/** Keep-alive connections to one origin (plain HTTP, no proxy) and GETs read into place. */
export class PlainHttpGets {
  private readonly idle: Connection[] = [];
  private closed = false;

  constructor(private readonly opts: PlainHttpOptions) {}

  /** Connections to the origin of an `http:` URL. */
  static forUrl(url: URL, timeouts: { connectTimeoutMs: number; silenceMs: number }): PlainHttpGets {
    return new PlainHttpGets({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 80 : Number(url.port), ...timeouts });
  }

  /**
   * GET `path` with `headers` (Host included by the caller, in its signed form). Throws
   * PlainGetError; never leaves a connection in an unknown state in the pool.
   */
  async get(path: string, headers: Record<string, string>, into: Uint8Array): Promise<PlainGetResult> {
    const request = `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    for (;;) {
      const reused = this.idle.pop();
      const conn = reused ?? new Connection(this.opts);
      try {
        const result = await conn.exchange(request, into);
        if (conn.reusable && !this.closed && this.idle.length < MAX_IDLE) {
          conn.park(() => this.drop(conn));
          this.idle.push(conn);
        } else {
          conn.destroy();
        }
        return result;
      } catch (err) {
        conn.destroy();
        // A kept-alive connection the server had already closed: ask once more on a new one
        // (not after silence: that is the server's or the network's, not the connection's).
        if (reused && err instanceof PlainGetError && !err.answered && err.code !== 'ETIMEDOUT' && conn.sentNothingBack) continue;
        throw err;
      }
    }
  }

  /** Closes every idle connection (a request in flight ends on its own). */
  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.destroy();
  }

  private drop(conn: Connection): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    conn.destroy();
  }
}

/** What the next read is: the response head, a body with a length (into `into`, or a small error body), a small chunked error body, or nothing asked. */
type Phase = 'head' | 'body' | 'chunked' | 'idle';

/** One socket, one request at a time. Its reads land in `next`, which the phase chooses. */
class Connection {
  private readonly socket: Socket;
  private readonly head = Buffer.allocUnsafe(HEAD_BYTES);
  private headLength = 0;
  private next: Uint8Array = this.head;
  private phase: Phase = 'idle';
  private connected = false;
  private into: Uint8Array = this.head;
  /** Where the body in 'body' and 'chunked' goes: `into` for a 2xx, else a small buffer of its own. */
  private body: Uint8Array = this.head;
  private bodyAt = 0;
  private bodyLength = 0;
  private status = 0;
  private headers = new Map<string, string>();
  private settle: ((r: PlainGetResult | PlainGetError) => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private onIdleEnd: (() => void) | null = null;
  /** False once the answer said it closes the connection, or anything odd happened. */
  reusable = true;
  /** No byte of an answer came back to the request in flight (a stale connection looks so). */
  sentNothingBack = true;

  constructor(private readonly opts: PlainHttpOptions) {
    this.socket = connect({
      host: opts.host,
      port: opts.port,
      noDelay: true,
      onread: {
        // Called after every read for the buffer of the next one (and once at the start).
        buffer: () => this.next,
        callback: (n: number) => {
          this.onRead(n);
          return true;
        },
      },
    });
    this.socket.once('connect', () => {
      this.connected = true;
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.message, err.code ?? 'ECONNRESET'));
    this.socket.on('end', () => this.fail('the server closed the connection', 'ECONNRESET'));
    this.socket.on('close', () => this.fail('the connection closed', 'ECONNRESET'));
    this.socket.on('timeout', () => this.fail(`the socket was silent for ${opts.silenceMs} ms`, 'ETIMEDOUT'));
  }

  exchange(request: string, into: Uint8Array): Promise<PlainGetResult> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.onIdleEnd = null;
    this.socket.ref();
    this.rest();
    this.phase = 'head';
    this.into = into;
    this.sentNothingBack = true;
    this.socket.setTimeout(this.opts.silenceMs);
    return new Promise<PlainGetResult>((resolve, reject) => {
      const connectTimer = this.connected
        ? null
        : setTimeout(() => this.fail(`no connection within ${this.opts.connectTimeoutMs} ms`, 'ETIMEDOUT'), this.opts.connectTimeoutMs);
      this.settle = (r) => {
        if (connectTimer) clearTimeout(connectTimer);
        this.settle = null;
        this.socket.setTimeout(0);
        if (r instanceof PlainGetError) reject(r);
        else resolve(r);
      };
      this.socket.write(request, 'latin1');
    });
  }

  /** Idle in the pool: unref'd, closed after IDLE_MS or when the server closes it. */
  park(onEnd: () => void): void {
    this.rest();
    this.into = this.head;
    this.onIdleEnd = onEnd;
    this.socket.unref();
    this.idleTimer = setTimeout(onEnd, IDLE_MS);
    this.idleTimer.unref();
  }

  destroy(): void {
    this.reusable = false;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.onIdleEnd = null;
    this.rest();
    this.socket.destroy();
  }

  private onRead(n: number): void {
    this.sentNothingBack = false;
    switch (this.phase) {
      case 'head':
        this.headLength += n;
        this.readHead();
        return;
      case 'body':
        this.bodyAt += n;
        if (this.bodyAt === this.bodyLength) this.bodyDone();
        else this.next = this.body.subarray(this.bodyAt, this.bodyLength);
        return;
      case 'chunked': {
        this.bodyAt += n;
        const decoded = decodeChunked(Buffer.from(this.body.buffer, this.body.byteOffset, this.bodyAt));
        if (decoded === 'bad') return this.fail('a malformed chunked body', 'EPROTO', true);
        if (decoded !== null) this.finish({ kind: 'other', status: this.status, headers: this.headers, body: decoded });
        else if (this.bodyAt === this.body.length) this.unsupported(`a ${this.status} answer with a chunked body over 64 KiB`);
        else this.next = this.body.subarray(this.bodyAt);
        return;
      }
      case 'idle':
        // Bytes nobody asked for: the connection is out of step with its requests.
        this.reusable = false;
        this.onIdleEnd?.();
    }
  }

  /** The body with a length has all arrived. */
  private bodyDone(): void {
    if (this.body === this.into) this.finish({ kind: 'into', status: this.status, headers: this.headers, length: this.bodyLength });
    else this.finish({ kind: 'other', status: this.status, headers: this.headers, body: Buffer.from(this.body.buffer, this.body.byteOffset, this.bodyLength) });
  }

  private readHead(): void {
    const end = this.head.subarray(0, this.headLength).indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) {
      if (this.headLength >= HEAD_BYTES) return this.unsupported('a response head longer than 16 KiB');
      this.next = this.head.subarray(this.headLength);
      return;
    }
    const lines = this.head.toString('latin1', 0, end).split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!statusLine) return this.unsupported('not an HTTP/1.x answer');
    this.status = Number(statusLine[2]);
    this.headers = new Map();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return this.unsupported('a malformed header line');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      // Repeated headers (not expected on the answers read here) keep the first value.
      if (!this.headers.has(name)) this.headers.set(name, value);
    }
    if (statusLine[1] === '0' || /\bclose\b/i.test(this.headers.get('connection') ?? '')) this.reusable = false;
    if (this.status < 200) return this.unsupported(`an informational answer (${this.status})`);
    const ok = this.status >= 200 && this.status < 300;
    const early = this.headLength - (end + 4);
    if (this.headers.has('transfer-encoding')) {
      // Bodies are read into place only with a length; a small error document may come chunked
      // (Node's own servers send them so) and is decoded here, so a 404 stays an answer.
      if (ok || this.headers.get('transfer-encoding')!.toLowerCase() !== 'chunked') return this.unsupported('a body with Transfer-Encoding');
      this.body = Buffer.allocUnsafe(SMALL_BODY_BYTES);
      this.body.set(this.head.subarray(end + 4, this.headLength), 0);
      this.bodyAt = 0;
      this.phase = 'chunked';
      return this.onRead(early);
    }
    const lengthText = this.headers.get('content-length');
    if (lengthText === undefined || !/^\d{1,15}$/.test(lengthText)) return this.unsupported('no Content-Length');
    const length = Number(lengthText);
    if (early > length) return this.fail(`the server sent more than the ${length} bytes it announced`, 'EPROTO', true);
    if (ok && length > this.into.length) {
      // Not read: the connection goes with it rather than reading bytes nobody wants.
      this.reusable = false;
      return this.finish({ kind: 'too-big', status: this.status, headers: this.headers, length });
    }
    if (!ok && length > SMALL_BODY_BYTES) return this.unsupported(`a ${this.status} answer with a ${length}-byte body`);
    this.body = ok ? this.into : Buffer.allocUnsafe(length);
    this.body.set(this.head.subarray(end + 4, this.headLength), 0);
    this.bodyAt = early;
    this.bodyLength = length;
    if (early === length) return this.bodyDone();
    this.phase = 'body';
    this.next = this.body.subarray(early, length);
  }

  /** Nothing asked of the socket any more; the next bytes would be a new answer's head. */
  private rest(): void {
    this.phase = 'idle';
    this.next = this.head;
    this.headLength = 0;
    this.body = this.head;
  }

  private finish(result: PlainGetResult): void {
    this.rest();
    this.settle?.(result);
  }

  private unsupported(reason: string): void {
    this.reusable = false;
    this.finish({ kind: 'unsupported', reason });
  }

  /** The request in flight fails (`answered`: its head had arrived); an idle connection only leaves the pool. */
  private fail(message: string, code: string, answered = this.phase === 'body'): void {
    this.reusable = false;
    if (this.settle === null) {
      this.onIdleEnd?.();
      return;
    }
    this.rest();
    this.settle(new PlainGetError(message, answered, code));
  }
}

/**
 * The body of a complete chunked transfer in `raw` (chunk extensions ignored, trailers
 * skipped), null while it is incomplete, 'bad' when it is not chunked encoding.
 */
export function decodeChunked(raw: Buffer): Buffer | null | 'bad' {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return raw.length - at > 64 ? 'bad' : null;
    const sizeText = raw.toString('latin1', at, eol).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return 'bad';
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      // Trailers (none expected) end with an empty line.
      const close = raw.indexOf('\r\n\r\n', eol, 'latin1');
      if (close >= 0) return Buffer.concat(parts);
      return raw.length - eol > 8 * 1024 ? 'bad' : null;
    }
    const start = eol + 2;
    if (raw.length < start + size + 2) return null;
    if (raw[start + size] !== 13 || raw[start + size + 1] !== 10) return 'bad';
    parts.push(raw.subarray(start, start + size));
    at = start + size + 2;
  }
}
