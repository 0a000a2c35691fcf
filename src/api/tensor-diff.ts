import { ChunkIndex, pairTensors, unprovenPieces, type BytePiece, type DiffTensor } from '../core/tensor-diff.js';
import type { TensorFormat, TensorHeader } from '../formats/tensor-header.js';
import { fileChunks } from '../store/version-records.js';
import { fileErrorOf, VersionTensorReader, type FileError, type ModelFile, type TensorStoreAccess, type VersionFile } from './tensor-files.js';

/** Counts of a tensor diff. */
export interface TensorDiffCounts {
  added: number;
  removed: number;
  reshaped: number;
  changed: number;
  unchanged: number;
}

/** Parameters before and after, and how many of the after ones are new or changed. */
export interface TensorParameterChange {
  before: number;
  after: number;
  /** Parameters of the changed, reshaped and added tensors (as they are after). */
  changed: number;
  /** changed / after (0 when there are none after). */
  share: number;
}

/** The tensor diff of one model file (present in either version). The --json shape. */
export interface TensorFileDiff {
  path: string;
  format: TensorFormat;
  /** Tensor names, each list in the order of the file. */
  added: string[];
  removed: string[];
  /** Same name, another shape, dtype or storage. */
  reshaped: string[];
  /** Same layout, other bytes. */
  changed: string[];
  counts: TensorDiffCounts;
  /** Before and after of each reshaped tensor. */
  reshapes: { name: string; before: { dtype: string; shape: number[] }; after: { dtype: string; shape: number[] } }[];
  parameters: TensorParameterChange;
  /** Tensors whose bytes had to be compared because the chunk lists could not tell. */
  comparedExactly: number;
  /** Bytes of the model file and of the shards its tensors lie in, after (0 when removed). */
  modelBytes: number;
  error: FileError | null;
}

/** What `diff --tensors` adds to a diff. */
export interface TensorDiff {
  files: TensorFileDiff[];
  counts: TensorDiffCounts;
  parameters: TensorParameterChange;
  /** Bytes read from the store, both versions, headers included. */
  bytesRead: number;
  /** Of those, bytes read to compare tensors exactly. */
  bytesCompared: number;
  /** Size of the model files compared (and their shards), in the "after" version. */
  modelBytes: number;
}

const COMPARE_STEP = 1024 * 1024;

/**
 * Tensor-level diff of two versions' model files (docs/design.md §15): tensors added, removed,
 * reshaped (dtype or shape) and changed. Changed is decided from the chunk lists first: bytes
 * lying in a chunk both versions hold at the same place are equal, so only the bytes in
 * changed chunks are read, from both versions' local objects, and compared exactly (stopping
 * at the first difference). A file whose header cannot be read in either version gets its
 * error and the rest goes on. Needs the objects of both versions' model files locally.
 */
export function diffTensors(repo: TensorStoreAccess, filesA: readonly VersionFile[], filesB: readonly VersionFile[]): TensorDiff {
  const ra = new VersionTensorReader(repo, filesA);
  const rb = new VersionTensorReader(repo, filesB);
  const out: TensorDiff = { files: [], counts: zeroCounts(), parameters: { before: 0, after: 0, changed: 0, share: 0 }, bytesRead: 0, bytesCompared: 0, modelBytes: 0 };
  try {
    const modelsA = new Map(ra.modelFiles().map((m) => [m.file.path, m]));
    const modelsB = new Map(rb.modelFiles().map((m) => [m.file.path, m]));
    const paths = [...new Set([...modelsA.keys(), ...modelsB.keys()])].sort();
    const indexes = { a: new Map<string, ChunkIndex>(), b: new Map<string, ChunkIndex>() };
    const indexOf = (v: 'a' | 'b', path: string): ChunkIndex => {
      let ix = indexes[v].get(path);
      if (!ix) {
        const f = (v === 'a' ? ra : rb).file(path) as VersionFile;
        ix = new ChunkIndex({ digest: f.digest, chunks: fileChunks(repo.db, f.digest) });
        indexes[v].set(path, ix);
      }
      return ix;
    };
    for (const path of paths) {
      const ma = modelsA.get(path);
      const mb = modelsB.get(path);
      const d = diffFile(ma, mb, ra, rb, indexOf, (n) => (out.bytesCompared += n));
      out.files.push(d);
      out.modelBytes += d.modelBytes;
      for (const k of Object.keys(out.counts) as (keyof TensorDiffCounts)[]) out.counts[k] += d.counts[k];
      out.parameters.before += d.parameters.before;
      out.parameters.after += d.parameters.after;
      out.parameters.changed += d.parameters.changed;
    }
    out.parameters.share = share(out.parameters.changed, out.parameters.after);
    out.bytesRead = ra.bytesRead + rb.bytesRead;
    return out;
  } finally {
    ra.close();
    rb.close();
  }
}

function diffFile(
  ma: ModelFile | undefined,
  mb: ModelFile | undefined,
  ra: VersionTensorReader,
  rb: VersionTensorReader,
  indexOf: (v: 'a' | 'b', path: string) => ChunkIndex,
  onCompared: (bytes: number) => void,
): TensorFileDiff {
  const any = (mb ?? ma) as ModelFile;
  const d: TensorFileDiff = {
    path: any.file.path,
    format: any.format,
    added: [],
    removed: [],
    reshaped: [],
    changed: [],
    counts: zeroCounts(),
    reshapes: [],
    parameters: { before: 0, after: 0, changed: 0, share: 0 },
    comparedExactly: 0,
    modelBytes: 0,
    error: null,
  };
  let ha: TensorHeader | null = null;
  let hb: TensorHeader | null = null;
  try {
    // The same bytes under the same name say the same tensors: one header is enough
    // (not for TF.js, whose tensors live in shards that may have changed on their own).
    const same = ma && mb && ma.format === mb.format && ma.file.digest === mb.file.digest && ma.format !== 'tfjs';
    if (mb) hb = rb.header(mb);
    if (ma) ha = same ? hb : ra.header(ma);
  } catch (err) {
    d.error = fileErrorOf(err);
    return d;
  }
  const tensorsA = ha ? diffTensorsOf(ha, (ma as ModelFile).file.path) : [];
  const tensorsB = hb ? diffTensorsOf(hb, (mb as ModelFile).file.path) : [];
  const pairing = pairTensors(tensorsA, tensorsB);
  d.added = pairing.added.map((t) => t.name);
  d.removed = pairing.removed.map((t) => t.name);
  d.reshaped = pairing.reshaped.map((p) => p.b.name);
  d.reshapes = pairing.reshaped.map((p) => ({ name: p.b.name, before: { dtype: p.a.dtype, shape: [...p.a.shape] }, after: { dtype: p.b.dtype, shape: [...p.b.shape] } }));
  let unchanged = 0;
  let changedParams = 0;
  for (const { a, b } of pairing.comparable) {
    const pieces = unprovenPieces(a.segments, b.segments, indexOf);
    if (pieces.length === 0) {
      unchanged++;
      continue;
    }
    d.comparedExactly++;
    if (piecesDiffer(pieces, ra, rb, onCompared)) {
      d.changed.push(b.name);
      changedParams += b.parameters;
    } else unchanged++;
  }
  d.counts = { added: d.added.length, removed: d.removed.length, reshaped: d.reshaped.length, changed: d.changed.length, unchanged };
  changedParams += pairing.added.reduce((s, t) => s + t.parameters, 0) + pairing.reshaped.reduce((s, p) => s + p.b.parameters, 0);
  const after = tensorsB.reduce((s, t) => s + t.parameters, 0);
  d.parameters = { before: tensorsA.reduce((s, t) => s + t.parameters, 0), after, changed: changedParams, share: share(changedParams, after) };
  if (mb) {
    const files = new Set([mb.file.path, ...tensorsB.flatMap((t) => t.segments.map((x) => x.file))]);
    d.modelBytes = [...files].reduce((s, f) => s + (rb.file(f)?.size ?? 0), 0);
  }
  return d;
}

/** A header's tensors with every segment naming its file (null: the model file itself). */
function diffTensorsOf(h: TensorHeader, path: string): DiffTensor[] {
  return h.tensors.map((t) => ({
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    ...(t.storage ? { storage: t.storage } : {}),
    parameters: t.parameters,
    segments: t.segments.map((s) => ({ file: s.file ?? path, offset: s.offset, length: s.length })),
  }));
}

/** Reads the pieces from both versions step by step; true at the first byte that differs. */
function piecesDiffer(pieces: readonly BytePiece[], ra: VersionTensorReader, rb: VersionTensorReader, onCompared: (bytes: number) => void): boolean {
  for (const p of pieces) {
    const sa = ra.source(ra.file(p.fileA) as VersionFile);
    const sb = rb.source(rb.file(p.fileB) as VersionFile);
    for (let done = 0; done < p.length; done += COMPARE_STEP) {
      const n = Math.min(COMPARE_STEP, p.length - done);
      const x = sa.read(p.offsetA + done, n);
      const y = sb.read(p.offsetB + done, n);
      onCompared(2 * n);
      if (Buffer.compare(x, y) !== 0) return true;
    }
  }
  return false;
}

function zeroCounts(): TensorDiffCounts {
  return { added: 0, removed: 0, reshaped: 0, changed: 0, unchanged: 0 };
}

function share(part: number, whole: number): number {
  return whole > 0 ? Number((part / whole).toPrecision(6)) : 0;
}
