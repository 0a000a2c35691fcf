/**
 * Reading a stored object's bytes for someone else (`serve`) with every byte checked before
 * it is handed on (docs/design.md §12, "Served bytes are checked"). The object's chunk list
 * (in the index) names each chunk's offset, length and sha256, so each chunk overlapping the
 * range is read whole and hashed — no chunking pass, and a Range request is checked too. The
 * hashing runs on libuv's pool (WebCrypto's digest), a few chunks ahead of the one being
 * sent, so the thread writing to the socket does not hash.
 *
 * Both readers push their bytes into a sink whose promise says when a piece's memory may be
 * used again (the socket took it), so an object already found intact goes out through a few
 * reused buffers, with nothing allocated per read.
 */
import { webcrypto } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ChunkRef } from './hash-file.js';

/** Takes one piece of the bytes; resolves once the piece's memory may be reused. */
export type PieceSink = (piece: Buffer) => Promise<void>;

/** Chunks read and hashed ahead of the one being handed on (each at most CHUNKING.maxSize). */
const AHEAD = 3;
/** Unchecked reads: their size (large enough for loopback throughput, small enough for many clients) and buffers per read. */
const PLAIN_READ_BYTES = 1024 * 1024;
const PLAIN_BUFFERS = 4;

/** The bytes of one chunk are not those its digest names (or the object is shorter than its list). */
export class ChunkMismatch extends Error {
  constructor(
    readonly chunk: ChunkRef,
    readonly actual: string,
  ) {
    super(`chunk ${chunk.digest.slice(0, 12)} at ${chunk.offset} hashes to ${actual.slice(0, 12)}`);
  }
}

/**
 * Which chunks of one object were already found intact (by index in its chunk list), for a
 * caller that remembers them between reads while the object's file is unchanged.
 */
export interface CheckedChunks {
  has(index: number): boolean;
  add(index: number): void;
}

/** True when `chunks` cover [0, size) without gaps or overlaps, in order. */
export function chunksCover(chunks: readonly ChunkRef[], size: number): boolean {
  let at = 0;
  for (const c of chunks) {
    if (c.offset !== at || c.length <= 0) return false;
    at += c.length;
  }
  return at === size;
}

/**
 * Sends bytes [start, end) of the object at `path`, whose chunk list is `chunks` (covering
 * the object: chunksCover), into `sink`, each piece only after the whole chunk it lies in
 * hashed to its digest (or `known` says it did before). Throws ChunkMismatch at the first
 * chunk that does not, before any of its bytes are sent.
 */
export async function sendVerifiedRange(path: string, chunks: readonly ChunkRef[], start: number, end: number, sink: PieceSink, known?: CheckedChunks): Promise<void> {
  if (start >= end) return;
  let first = 0;
  while (first < chunks.length && chunks[first].offset + chunks[first].length <= start) first++;
  const fh = await open(path, 'r');
  const pending: Promise<Buffer>[] = [];
  const load = async (c: ChunkRef, index: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafeSlow(c.length);
    let got = 0;
    while (got < c.length) {
      const { bytesRead } = await fh.read(buf, got, c.length - got, c.offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < c.length) throw new ChunkMismatch(c, `(${got} of ${c.length} bytes)`);
    if (known?.has(index)) return buf;
    const actual = Buffer.from(await webcrypto.subtle.digest('SHA-256', buf)).toString('hex');
    if (actual !== c.digest) throw new ChunkMismatch(c, actual);
    known?.add(index);
    return buf;
  };
  let next = first;
  try {
    for (let i = first; i < chunks.length && chunks[i].offset < end; i++) {
      while (pending.length < AHEAD && next < chunks.length && chunks[next].offset < end) {
        const p = load(chunks[next], next);
        next++;
        p.catch(() => undefined); // awaited in its turn; a later chunk's failure must not be unhandled meanwhile
        pending.push(p);
      }
      const buf = await pending.shift()!;
      const c = chunks[i];
      await sink(buf.subarray(Math.max(start, c.offset) - c.offset, Math.min(end, c.offset + c.length) - c.offset));
    }
  } finally {
    await Promise.allSettled(pending);
    await fh.close();
  }
}

/**
 * Sends bytes [start, end) of `path` into `sink` unchecked (an object already found intact),
 * through PLAIN_BUFFERS reused buffers: one is read into again only after the sink has taken
 * its previous bytes, and up to PLAIN_BUFFERS pieces are in the sink at once.
 */
export async function sendPlainRange(path: string, start: number, end: number, sink: PieceSink): Promise<void> {
  if (start >= end) return;
  const fh = await open(path, 'r');
  const buffers = Array.from({ length: PLAIN_BUFFERS }, () => Buffer.allocUnsafeSlow(Math.min(PLAIN_READ_BYTES, end - start)));
  const taken: (Promise<void> | null)[] = buffers.map(() => null);
  try {
    for (let pos = start, i = 0; pos < end; i = (i + 1) % PLAIN_BUFFERS) {
      await taken[i];
      const buf = buffers[i];
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) throw new Error(`${path} ended before its recorded size`);
      pos += bytesRead;
      const p = sink(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      p.catch(() => undefined); // awaited when the buffer comes round again
      taken[i] = p;
    }
    await Promise.all(taken);
  } finally {
    await Promise.allSettled(taken.filter((p) => p !== null));
    await fh.close();
  }
}
