import type { IncomingMessage, ServerResponse } from 'node:http';
import { changesAfter, newestChangeSeq, type ChangeNotice } from '../api/event-feed.js';
import { COMMON_HEADERS } from './http-response.js';
import type { ServedSource } from './served-source.js';

/**
 * Server-sent events (docs/design.md §12): one poller per server reads the events that reached
 * the served index since the last look (a commit, tag or stage move by another process, or
 * brought in by the remote poll) and sends each to every open stream as
 * `id: <seq>`, `event: stage|tag|version|audit`, `data: <ChangeNotice JSON>`. A client that
 * reconnects with `Last-Event-ID` gets what it missed (up to REPLAY_LIMIT events).
 */

/** Events replayed to a reconnecting client at most. */
const REPLAY_LIMIT = 1000;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** The SSE fan-out of one server. */
export class ChangeStream {
  private readonly clients = new Set<ServerResponse>();
  private lastSeq: number;
  private timer: NodeJS.Timeout | null = null;
  private keepalive: NodeJS.Timeout | null = null;

  constructor(
    private readonly source: ServedSource,
    private readonly pollMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.lastSeq = newestChangeSeq(source.repo);
  }

  /** Starts polling the index. */
  start(): void {
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
    this.keepalive = setInterval(() => {
      for (const c of this.clients) c.write(': keep-alive\n\n');
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Looks for new events now and sends them (also called by the remote poll after a fetch). */
  poll(): void {
    try {
      for (;;) {
        const changes = changesAfter(this.source.repo, this.lastSeq, REPLAY_LIMIT);
        if (changes.length === 0) return;
        this.lastSeq = changes[changes.length - 1].seq;
        for (const ch of changes) this.broadcast(ch);
      }
    } catch (err) {
      this.log(`event poll failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Turns a request into an open stream (replaying after Last-Event-ID when given). */
  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 3000\n: modelctl change stream, cursor ${this.lastSeq}\n\n`);
    const last = Number(req.headers['last-event-id']);
    if (Number.isSafeInteger(last) && last >= 0 && last < this.lastSeq) {
      for (const ch of changesAfter(this.source.repo, last, REPLAY_LIMIT)) if (ch.seq <= this.lastSeq) res.write(frame(ch));
    }
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.on('close', drop);
    res.on('close', drop);
  }

  /** Number of open streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Stops polling and ends every stream. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.keepalive) clearInterval(this.keepalive);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private broadcast(ch: ChangeNotice): void {
    const text = frame(ch);
    for (const c of this.clients) c.write(text);
  }
}

function frame(ch: ChangeNotice): string {
  return `id: ${ch.seq}\nevent: ${ch.kind}\ndata: ${JSON.stringify(ch)}\n\n`;
}
