import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Chunker } from '../../src/store/chunker.js';
import { CHUNKING, gearTable, gearTableDigest } from '../../src/store/gear.js';
import { EMPTY_FILE_DIGEST, fileDigestFromChunks } from '../../src/store/file-digest.js';
import { ChunkHasher } from '../../src/store/hash-file.js';
import { vectorStream } from '../vectors/stream.js';

interface VectorCase {
  name: string;
  seed: string;
  zeros: boolean;
  length: number;
  streamSha256: string;
  cutPoints: number[];
  chunkDigests: string[];
  fileDigest: string;
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/chunker-v1.json', import.meta.url), 'utf8')) as {
  chunking: typeof CHUNKING;
  gearTableSha256: string;
  emptyFileDigest: string;
  cases: VectorCase[];
};

function streamOf(c: VectorCase): Buffer {
  return c.zeros ? Buffer.alloc(c.length) : vectorStream(c.seed, c.length);
}

/** The chunking rule written as plainly as possible, byte by byte, to check the fast loop. */
function referenceCuts(data: Uint8Array): number[] {
  const G = gearTable();
  const cuts: number[] = [];
  let start = 0;
  while (start < data.length) {
    let len = 0;
    let h = 0;
    let cut = -1;
    for (let i = start; i < data.length; i++) {
      len = i - start + 1;
      if (len <= CHUNKING.minSize) continue; // the first minSize bytes are skipped
      h = ((h << 1) + G[data[i]]) | 0;
      const mask = (len - 1 < CHUNKING.avgSize ? CHUNKING.maskS : CHUNKING.maskL) | 0;
      if ((h & mask) === 0 || len === CHUNKING.maxSize) {
        cut = i + 1;
        break;
      }
    }
    if (cut < 0) cut = data.length;
    cuts.push(cut);
    start = cut;
  }
  return cuts;
}

describe('chunker test vectors (format version 1)', () => {
  it('parameters and gear table are frozen', () => {
    expect(vectors.chunking).toEqual(JSON.parse(JSON.stringify(CHUNKING)));
    expect(gearTableDigest()).toBe(vectors.gearTableSha256);
    expect(EMPTY_FILE_DIGEST).toBe(vectors.emptyFileDigest);
    expect(CHUNKING.minSize).toBe(256 * 1024);
    expect(CHUNKING.avgSize).toBe(1024 * 1024);
    expect(CHUNKING.maxSize).toBe(4 * 1024 * 1024);
  });

  for (const c of vectors.cases) {
    it(`${c.name}: exact cut points, chunk digests and file digest`, () => {
      const data = streamOf(c);
      expect(createHash('sha256').update(data).digest('hex')).toBe(c.streamSha256);
      const h = new ChunkHasher();
      h.update(data);
      const r = h.finish();
      expect(r.chunks.map((ch) => ch.offset + ch.length)).toEqual(c.cutPoints);
      expect(r.chunks.map((ch) => ch.digest)).toEqual(c.chunkDigests);
      expect(r.digest).toBe(c.fileDigest);
      expect(r.size).toBe(c.length);
      // The digests are plain sha256 of each chunk's bytes.
      let prev = 0;
      c.cutPoints.forEach((cut, i) => {
        expect(createHash('sha256').update(data.subarray(prev, cut)).digest('hex')).toBe(c.chunkDigests[i]);
        prev = cut;
      });
      expect(fileDigestFromChunks(c.chunkDigests)).toBe(c.fileDigest);
    });
  }

  it('the fast loop agrees with the plain reference rule', () => {
    const c = vectors.cases[0];
    expect(referenceCuts(streamOf(c))).toEqual(c.cutPoints);
    expect(referenceCuts(streamOf(vectors.cases[1]))).toEqual(vectors.cases[1].cutPoints);
  });

  it('cut points do not depend on how the input is sliced (streaming)', () => {
    const c = vectors.cases[0];
    const data = streamOf(c);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 700_000) + 1;
    const h = new ChunkHasher();
    for (let off = 0; off < data.length; ) {
      const end = Math.min(data.length, off + rand());
      // A reused buffer: copy each slice into the same scratch space.
      const scratch = Buffer.from(data.subarray(off, end));
      h.update(scratch);
      scratch.fill(0);
      off = end;
    }
    expect(h.finish().digest).toBe(c.fileDigest);
  });

  it('chunk sizes respect min and max, and a file digest is never a chunk digest', () => {
    const c = vectors.cases[0];
    let prev = 0;
    for (const [i, cut] of c.cutPoints.entries()) {
      const len = cut - prev;
      expect(len).toBeLessThanOrEqual(CHUNKING.maxSize);
      if (i < c.cutPoints.length - 1) expect(len).toBeGreaterThanOrEqual(CHUNKING.minSize);
      prev = cut;
    }
    const single = vectors.cases[2];
    expect(single.chunkDigests).toHaveLength(1);
    expect(single.fileDigest).not.toBe(single.chunkDigests[0]);
  });

  it('the Chunker alone reports the same cuts', () => {
    const c = vectors.cases[1];
    const ch = new Chunker();
    const cuts = ch.push(streamOf(c));
    expect([...cuts, c.length]).toEqual(c.cutPoints);
  });
});
