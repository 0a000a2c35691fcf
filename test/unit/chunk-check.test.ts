/**
 * The per-chunk checks of a download (src/store/chunk-check.ts): checking each chunk of a
 * chunk list on its own must accept exactly the lists the chunker itself produces, as the
 * boundary scan of the whole rebuilt file did.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkChunk, cutsAsListed } from '../../src/store/chunk-check.js';
import { CHUNKING } from '../../src/store/gear.js';
import { vectorStream } from '../vectors/stream.js';

interface VectorCase {
  name: string;
  seed: string;
  zeros: boolean;
  length: number;
  cutPoints: number[];
  chunkDigests: string[];
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/chunker-v1.json', import.meta.url), 'utf8')) as { cases: VectorCase[] };
const streams = new Map<string, Buffer>();
const streamOf = (c: VectorCase) => {
  let data = streams.get(c.name);
  if (!data) streams.set(c.name, (data = c.zeros ? Buffer.alloc(c.length) : vectorStream(c.seed, c.length)));
  return data;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The chunks of a cut list: [start, end) pairs. */
const pieces = (cuts: number[]) => cuts.map((end, i) => [i === 0 ? 0 : cuts[i - 1], end] as const);

describe('per-chunk checks of a chunk list', () => {
  for (const c of vectors.cases) {
    it(`${c.name}: every chunk the chunker cut passes, with its digest`, () => {
      const data = streamOf(c);
      pieces(c.cutPoints).forEach(([from, to], i) => {
        const last = i === c.cutPoints.length - 1;
        expect(checkChunk(data.subarray(from, to), c.chunkDigests[i], last)).toBe('ok');
      });
    });
  }

  it('a chunk split in two genuine halves is refused (the cut is not where the chunker cuts)', () => {
    const c = vectors.cases[0];
    const data = streamOf(c);
    const [from, to] = pieces(c.cutPoints)[0];
    const mid = from + 100_000;
    // The first half is shorter than minSize: no chunk the chunker cut can end there. (The
    // second half may well pass on its own: its cut depends only on its own bytes.)
    expect(cutsAsListed(data.subarray(from, mid), false)).toBe(false);
    expect([data.subarray(from, mid), data.subarray(mid, to)].every((b) => cutsAsListed(b, false))).toBe(false);
  });

  it('two chunks joined into one are refused, also as the last chunk', () => {
    const c = vectors.cases[0];
    const data = streamOf(c);
    const joined = data.subarray(0, c.cutPoints[1]);
    expect(cutsAsListed(joined, false)).toBe(false);
    expect(cutsAsListed(joined, true)).toBe(false);
  });

  it('a cut moved by one byte is refused either way', () => {
    const c = vectors.cases[0];
    const data = streamOf(c);
    const end = c.cutPoints[0];
    expect(cutsAsListed(data.subarray(0, end - 1), false)).toBe(false);
    expect(cutsAsListed(data.subarray(0, end + 1), false)).toBe(false);
  });

  it('only the last chunk may end without a cut; the digest is checked first', () => {
    const data = vectorStream('tail', CHUNKING.minSize - 1);
    expect(cutsAsListed(data, true)).toBe(true);
    expect(cutsAsListed(data, false)).toBe(false);
    expect(checkChunk(data, sha(data), true)).toBe('ok');
    expect(checkChunk(data, sha(Buffer.from('other')), true)).toBe('digest');
    expect(checkChunk(data, sha(data), false)).toBe('cuts');
  });

  it('a chunk of maxSize with no natural cut ends at the forced cut; longer is refused', () => {
    const zeros = Buffer.alloc(CHUNKING.maxSize + 1);
    // All-zero bytes never satisfy the mask (see the zeros vector), so the cut is forced.
    expect(cutsAsListed(zeros.subarray(0, CHUNKING.maxSize), false)).toBe(true);
    expect(cutsAsListed(zeros, true)).toBe(false);
    expect(cutsAsListed(Buffer.alloc(0), true)).toBe(false);
  });
});
