/**
 * The pure part of `diff --tensors` (docs/design.md §15): pairing tensors by name, and
 * deciding from chunk lists which bytes of a tensor are proven unchanged. A chunk is named by
 * the sha256 of its bytes, so where version B's tensor bytes lie in a chunk that version A
 * holds at the matching position, those bytes are equal; only the rest needs reading.
 */

/** Bytes of a tensor in a file of the version (a version path). */
export interface TensorBytes {
  file: string;
  offset: number;
  length: number;
}

/** A tensor as the diff compares it. */
export interface DiffTensor {
  name: string;
  dtype: string;
  shape: readonly number[];
  storage?: string;
  parameters: number;
  segments: readonly TensorBytes[];
}

/** One chunk of a file: its digest and where it lies. */
export interface ChunkSpan {
  digest: string;
  offset: number;
  length: number;
}

/** What is known of a file's bytes without reading them: its digest and chunk list. */
export interface FileLayout {
  digest: string;
  /** Null when the index does not know the file's chunks (nothing can be proven from them). */
  chunks: readonly ChunkSpan[] | null;
}

/** A run of bytes to compare: `length` bytes at offsetA of fileA and offsetB of fileB. */
export interface BytePiece {
  fileA: string;
  offsetA: number;
  fileB: string;
  offsetB: number;
  length: number;
}

/** Tensors paired by name. */
export interface TensorPairing {
  added: DiffTensor[];
  removed: DiffTensor[];
  /** Same name, another shape, dtype or storage: changed without reading anything. */
  reshaped: { a: DiffTensor; b: DiffTensor }[];
  /** Same name and layout: changed or not, the bytes say. */
  comparable: { a: DiffTensor; b: DiffTensor }[];
}

/** Pairs two tensor lists by name (each list's names are unique: the readers refuse duplicates). */
export function pairTensors(a: readonly DiffTensor[], b: readonly DiffTensor[]): TensorPairing {
  const inA = new Map(a.map((t) => [t.name, t]));
  const inB = new Set(b.map((t) => t.name));
  const out: TensorPairing = { added: [], removed: [], reshaped: [], comparable: [] };
  for (const tb of b) {
    const ta = inA.get(tb.name);
    if (!ta) out.added.push(tb);
    else if (ta.dtype !== tb.dtype || ta.storage !== tb.storage || !sameShape(ta.shape, tb.shape)) out.reshaped.push({ a: ta, b: tb });
    else out.comparable.push({ a: ta, b: tb });
  }
  for (const ta of a) if (!inB.has(ta.name)) out.removed.push(ta);
  return out;
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/** A file's chunks, searchable by position and by digest. */
export class ChunkIndex {
  private readonly starts: number[];
  private readonly at = new Map<string, Set<number>>();

  constructor(readonly layout: FileLayout) {
    const chunks = layout.chunks ?? [];
    this.starts = chunks.map((c) => c.offset);
    for (const c of chunks) {
      let set = this.at.get(c.digest);
      if (!set) this.at.set(c.digest, (set = new Set()));
      set.add(c.offset);
    }
  }

  /** True when this file holds a chunk with `digest` starting at `offset`. */
  has(digest: string, offset: number): boolean {
    return this.at.get(digest)?.has(offset) ?? false;
  }

  /** Index of the chunk containing byte `offset` (chunks are contiguous from 0). */
  chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * The parts of two equally long byte runs (a tensor in A and in B) that chunk evidence does
 * not prove equal: a part of B lying in a chunk that A holds at the same relative position is
 * equal (same sha256, same bytes); everything else is returned for an exact comparison.
 * Adjacent parts are merged. Lists of different total length are returned whole.
 */
export function unprovenPieces(a: readonly TensorBytes[], b: readonly TensorBytes[], indexOf: (version: 'a' | 'b', file: string) => ChunkIndex): BytePiece[] {
  const out: BytePiece[] = [];
  const push = (p: BytePiece) => {
    const last = out[out.length - 1];
    if (last && last.fileA === p.fileA && last.fileB === p.fileB && last.offsetA + last.length === p.offsetA && last.offsetB + last.length === p.offsetB) last.length += p.length;
    else if (p.length > 0) out.push({ ...p });
  };
  // Walk both segment lists in step, one aligned piece at a time.
  let i = 0;
  let j = 0;
  let usedA = 0;
  let usedB = 0;
  while (i < a.length && j < b.length) {
    const sa = a[i];
    const sb = b[j];
    const len = Math.min(sa.length - usedA, sb.length - usedB);
    if (len > 0) provePiece({ fileA: sa.file, offsetA: sa.offset + usedA, fileB: sb.file, offsetB: sb.offset + usedB, length: len }, indexOf, push);
    usedA += len;
    usedB += len;
    if (usedA >= sa.length) (i++, (usedA = 0));
    if (usedB >= sb.length) (j++, (usedB = 0));
  }
  return out;
}

function provePiece(p: BytePiece, indexOf: (version: 'a' | 'b', file: string) => ChunkIndex, push: (p: BytePiece) => void): void {
  const ia = indexOf('a', p.fileA);
  const ib = indexOf('b', p.fileB);
  if (ia.layout.digest === ib.layout.digest && p.offsetA === p.offsetB) return;
  const chunks = ib.layout.chunks;
  if (!chunks || !ia.layout.chunks || chunks.length === 0) {
    push(p);
    return;
  }
  const delta = p.offsetA - p.offsetB;
  const end = p.offsetB + p.length;
  const unproven = (from: number, to: number) => push({ fileA: p.fileA, offsetA: from + delta, fileB: p.fileB, offsetB: from, length: to - from });
  // Bytes no chunk of B covers (a list that disagrees with the file) are never taken as proven.
  let covered = p.offsetB;
  for (let k = ib.chunkAt(p.offsetB); k < chunks.length && chunks[k].offset < end; k++) {
    const c = chunks[k];
    const from = Math.max(covered, c.offset);
    const to = Math.min(end, c.offset + c.length);
    if (to <= from) continue;
    if (from > covered) unproven(covered, from);
    if (!ia.has(c.digest, c.offset + delta)) unproven(from, to);
    covered = to;
  }
  if (covered < end) unproven(covered, end);
}
