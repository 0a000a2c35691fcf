import { describe, expect, it } from 'vitest';
import { ChunkIndex, pairTensors, unprovenPieces, type ChunkSpan, type DiffTensor, type FileLayout } from '../../src/core/tensor-diff.js';

const chunks = (...spec: [string, number][]): ChunkSpan[] => {
  let at = 0;
  return spec.map(([digest, length]) => {
    const c = { digest, offset: at, length };
    at += length;
    return c;
  });
};
const indexes = (a: Record<string, FileLayout>, b: Record<string, FileLayout>) => {
  const ia = new Map(Object.entries(a).map(([k, v]) => [k, new ChunkIndex(v)]));
  const ib = new Map(Object.entries(b).map(([k, v]) => [k, new ChunkIndex(v)]));
  return (v: 'a' | 'b', f: string) => (v === 'a' ? ia : ib).get(f) as ChunkIndex;
};
const seg = (file: string, offset: number, length: number) => [{ file, offset, length }];

describe('pairTensors', () => {
  const t = (name: string, shape: number[], dtype = 'f32'): DiffTensor => ({ name, dtype, shape, parameters: shape.reduce((x, y) => x * y, 1), segments: [] });
  it('splits added, removed, reshaped (shape or dtype) and comparable by name', () => {
    const p = pairTensors([t('a', [2]), t('b', [3]), t('c', [4]), t('d', [1])], [t('a', [2]), t('b', [4]), t('c', [4], 'bf16'), t('e', [1])]);
    expect(p.added.map((x) => x.name)).toEqual(['e']);
    expect(p.removed.map((x) => x.name)).toEqual(['d']);
    expect(p.reshaped.map((x) => x.b.name)).toEqual(['b', 'c']);
    expect(p.comparable.map((x) => x.b.name)).toEqual(['a']);
  });
});

describe('unprovenPieces', () => {
  it('proves bytes equal when they lie in chunks A holds at the same place', () => {
    const layout = { digest: 'F', chunks: chunks(['c1', 100], ['c2', 100], ['c3', 100]) };
    const ix = indexes({ m: { digest: 'FA', chunks: layout.chunks } }, { m: { digest: 'FB', chunks: layout.chunks } });
    expect(unprovenPieces(seg('m', 10, 250), seg('m', 10, 250), ix)).toEqual([]);
  });

  it('returns only the part of a tensor inside a changed chunk', () => {
    const ix = indexes(
      { m: { digest: 'FA', chunks: chunks(['c1', 100], ['c2', 100], ['c3', 100]) } },
      { m: { digest: 'FB', chunks: chunks(['c1', 100], ['X2', 100], ['c3', 100]) } },
    );
    expect(unprovenPieces(seg('m', 50, 200), seg('m', 50, 200), ix)).toEqual([{ fileA: 'm', offsetA: 100, fileB: 'm', offsetB: 100, length: 100 }]);
    // A tensor wholly inside unchanged chunks needs nothing read.
    expect(unprovenPieces(seg('m', 0, 100), seg('m', 0, 100), ix)).toEqual([]);
  });

  it('follows a shift: chunks that moved with the tensor still prove it equal', () => {
    // B grew a 10-byte header: its chunks after the first re-synchronise 10 bytes later.
    const ix = indexes(
      { m: { digest: 'FA', chunks: chunks(['h', 40], ['c2', 100], ['c3', 100]) } },
      { m: { digest: 'FB', chunks: chunks(['H', 50], ['c2', 100], ['c3', 100]) } },
    );
    expect(unprovenPieces(seg('m', 40, 200), seg('m', 50, 200), ix)).toEqual([]);
    // Shifted by a different amount than the chunks: nothing is proven.
    expect(unprovenPieces(seg('m', 44, 100), seg('m', 50, 100), ix)).toEqual([{ fileA: 'm', offsetA: 44, fileB: 'm', offsetB: 50, length: 100 }]);
  });

  it('proves nothing without chunk lists, and everything for the same file at the same offset', () => {
    const ix = indexes({ m: { digest: 'FA', chunks: null }, n: { digest: 'S', chunks: null } }, { m: { digest: 'FB', chunks: null }, n: { digest: 'S', chunks: null } });
    expect(unprovenPieces(seg('m', 0, 10), seg('m', 0, 10), ix)).toHaveLength(1);
    expect(unprovenPieces(seg('n', 0, 10), seg('n', 0, 10), ix)).toEqual([]);
  });

  it('never takes bytes past the end of a chunk list as proven', () => {
    const ix = indexes({ m: { digest: 'FA', chunks: chunks(['c1', 100]) } }, { m: { digest: 'FB', chunks: chunks(['c1', 100]) } });
    expect(unprovenPieces(seg('m', 50, 100), seg('m', 50, 100), ix)).toEqual([{ fileA: 'm', offsetA: 100, fileB: 'm', offsetB: 100, length: 50 }]);
  });

  it('walks tensors split over shards on either side', () => {
    const ix = indexes(
      { s1: { digest: 'A1', chunks: chunks(['x', 8]) }, s2: { digest: 'A2', chunks: chunks(['y', 8]) } },
      { t: { digest: 'B', chunks: chunks(['x', 8], ['z', 8]) } },
    );
    // A: 4 bytes at s1@4 + 8 at s2@0; B: 12 bytes at t@4. The first 4 are in chunk x at the same place.
    const pieces = unprovenPieces([{ file: 's1', offset: 4, length: 4 }, { file: 's2', offset: 0, length: 8 }], seg('t', 4, 12), ix);
    expect(pieces).toEqual([{ fileA: 's2', offsetA: 0, fileB: 't', offsetB: 8, length: 8 }]);
  });
});
