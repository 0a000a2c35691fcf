/**
 * server/file-response.ts responseSink: when a client goes away mid-download, every write
 * still waiting on the socket rejects, so the reader pushing into the sink ends and closes
 * its file. Found by stopping `curl --limit-rate` mid-download from `modelctl serve`: a
 * write pending when the socket was destroyed never called its callback, the reader waited
 * forever, and its file descriptor was closed only by the garbage collector, with a warning.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { responseSink } from '../../src/server/file-response.js';

/** A response whose socket took the bytes but never acknowledges them, as a stalled client's does. */
class StalledResponse extends EventEmitter {
  destroyed = false;
  written: Buffer[] = [];
  write(piece: Buffer, _done: (err?: Error | null) => void): boolean {
    this.written.push(piece);
    return false;
  }
  leave(): void {
    this.destroyed = true;
    this.emit('close');
  }
  destroy(): void {
    if (!this.destroyed) this.leave();
  }
}

const settle = (p: Promise<void>, ms: number): Promise<string> =>
  Promise.race([
    p.then(
      () => 'resolved',
      (err: Error) => `rejected: ${err.message}`,
    ),
    new Promise<string>((r) => setTimeout(() => r('still waiting'), ms)),
  ]);

describe('responseSink', () => {
  it('rejects a write still waiting when the client leaves', async () => {
    const res = new StalledResponse();
    const sink = responseSink(res as unknown as ServerResponse);
    const pending = sink(Buffer.alloc(16));
    expect(await settle(pending, 50)).toBe('still waiting'); // backpressure is legitimate while the client is there
    res.leave();
    expect(await settle(pending, 200)).toBe('rejected: client went away');
  });

  it('rejects at once a write offered after the client left', async () => {
    const res = new StalledResponse();
    const sink = responseSink(res as unknown as ServerResponse);
    res.leave();
    expect(await settle(sink(Buffer.alloc(16)), 200)).toBe('rejected: client went away');
    expect(res.written).toHaveLength(0);
  });

  it('resolves a write once the socket acknowledges it, and rejects with the socket error', async () => {
    const acks: Array<(err?: Error | null) => void> = [];
    const res = new StalledResponse();
    res.write = (piece: Buffer, done: (err?: Error | null) => void) => {
      res.written.push(piece);
      acks.push(done);
      return true;
    };
    const sink = responseSink(res as unknown as ServerResponse);
    const first = sink(Buffer.alloc(1));
    const second = sink(Buffer.alloc(1));
    acks[0]!();
    acks[1]!(new Error('EPIPE'));
    expect(await settle(first, 200)).toBe('resolved');
    expect(await settle(second, 200)).toBe('rejected: EPIPE');
    // A refused write means the client is gone: the response is destroyed at once, so the
    // server ends the request quietly rather than logging an internal error.
    expect(res.destroyed).toBe(true);
    res.leave(); // a write already settled is not rejected again
  });
});
