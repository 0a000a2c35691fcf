/**
 * The checking threads of a download (src/store/chunk-check-pool.ts): chunks in shared
 * slots are checked and written on worker threads, a refused chunk is never written, and
 * jobs of a thread that dies still get their answer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkCheckPool } from '../../src/store/chunk-check-pool.js';
import { ChunkHasher } from '../../src/store/hash-file.js';
import { tempDir } from '../helpers/temp-repo.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function chunked(bytes: number) {
  const data = randomBytes(bytes);
  const h = new ChunkHasher();
  h.update(data);
  return { data, chunks: h.finish().chunks };
}

let pool: ChunkCheckPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('chunk checking threads', () => {
  for (const threads of [0, 2]) {
    it(`${threads} threads: every chunk checked and written where it belongs; a bad one is refused and not written`, async () => {
      const { data, chunks } = chunked(12 * 1024 * 1024);
      expect(chunks.length).toBeGreaterThan(4);
      const p = (pool = new ChunkCheckPool(3, threads));
      const out = join(tempDir(), 'partial');
      writeFileSync(out, Buffer.alloc(data.length));
      const fd = openSync(out, 'r+');
      try {
        const verdicts = await Promise.all(
          chunks.map(async (c, k) => {
            const slot = await p.acquire();
            try {
              const view = p.view(slot, c.length);
              data.copy(view, 0, c.offset, c.offset + c.length);
              if (k === 1) view[7] ^= 1; // one chunk damaged on the way
              return await p.check(slot, { length: c.length, digest: c.digest, last: k === chunks.length - 1, writeTo: { fd, position: c.offset } });
            } finally {
              p.release(slot);
            }
          }),
        );
        expect(verdicts.filter((v) => v !== 'ok')).toEqual(['digest']);
        expect(verdicts[1]).toBe('digest');
      } finally {
        closeSync(fd);
      }
      const written = readFileSync(out);
      for (const [k, c] of chunks.entries()) {
        const piece = written.subarray(c.offset, c.offset + c.length);
        if (k === 1) expect(piece.every((b) => b === 0)).toBe(true);
        else expect(sha(piece)).toBe(c.digest);
      }
    });
  }

  it('reads a chunk from a file first, and refuses one cut where the chunker would not cut', async () => {
    const { data, chunks } = chunked(6 * 1024 * 1024);
    const src = join(tempDir(), 'source');
    writeFileSync(src, data);
    const p = (pool = new ChunkCheckPool(1, 1));
    const fd = openSync(src, 'r');
    try {
      const slot = await p.acquire();
      const c = chunks[0];
      expect(await p.check(slot, { length: c.length, digest: c.digest, last: false, readFrom: { fd, position: c.offset } })).toBe('ok');
      const shorter = data.subarray(0, c.length - 1);
      expect(await p.check(slot, { length: shorter.length, digest: sha(shorter), last: false, readFrom: { fd, position: 0 } })).toBe('cuts');
      expect(await p.check(slot, { length: c.length, digest: c.digest, last: false, readFrom: { fd, position: data.length - 10 } })).toBe('short');
      p.release(slot);
    } finally {
      closeSync(fd);
    }
  });

  it('a thread that dies mid-way: its jobs are answered all the same', async () => {
    const { data, chunks } = chunked(8 * 1024 * 1024);
    const p = (pool = new ChunkCheckPool(chunks.length, 2));
    // Start the threads and let them become ready.
    const first = await p.acquire();
    data.copy(p.view(first), 0, 0, chunks[0].length);
    await p.check(first, { length: chunks[0].length, digest: chunks[0].digest, last: false });
    // Both threads ready (a fixed pause is not enough on a loaded machine).
    const threads = (p as unknown as { threads: { ready: boolean }[] }).threads;
    for (let waited = 0; !(threads.length === 2 && threads.every((t) => t.ready)); waited += 20) {
      if (waited > 20_000) throw new Error('the checking threads never became ready');
      await new Promise((r) => setTimeout(r, 20));
    }
    p.release(first);
    const slots = await Promise.all(chunks.map(() => p.acquire()));
    const pending = chunks.map((c, k) => {
      data.copy(p.view(slots[k]), 0, c.offset, c.offset + c.length);
      return p.check(slots[k], { length: c.length, digest: c.digest, last: k === chunks.length - 1 });
    });
    const victim = (p as unknown as { threads: { inFlight: Map<number, unknown>; worker: { terminate(): Promise<number> } }[] }).threads[0];
    // Answers arrive through the event loop, which has not run since the jobs were posted.
    expect(victim.inFlight.size).toBeGreaterThan(0);
    await victim.worker.terminate();
    expect(await Promise.all(pending)).toEqual(chunks.map(() => 'ok'));
  });
});
