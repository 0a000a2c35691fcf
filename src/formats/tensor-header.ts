import { IntegrityError } from '../errors.js';

/** The model formats whose headers modelctl reads (docs/design.md §15). */
export type TensorFormat = 'safetensors' | 'gguf' | 'onnx' | 'tfjs';

/** Where (part of) a tensor's bytes lie: in the file read (`file` null) or another file of the version. */
export interface TensorSegment {
  /** Version path of the file holding these bytes; null for the file whose header was read. */
  file: string | null;
  offset: number;
  length: number;
}

/** One tensor as a header describes it. */
export interface TensorInfo {
  name: string;
  /** Common lower-case dtype name across formats: f32, bf16, f16, i64, u8, bool, q4_k, … */
  dtype: string;
  /** Dimensions, outermost first (GGUF's are reversed into this order). */
  shape: number[];
  /** Number of elements (the product of the shape). */
  parameters: number;
  /** How the bytes are stored when that differs from dtype (TF.js quantization: u8, u16, f16). */
  storage?: string;
  /** Its bytes, in order (several only for TF.js weights spanning shards). */
  segments: TensorSegment[];
}

/** A graph input or output (ONNX): name, dtype and shape, symbolic dimensions as their names. */
export interface TensorSignature {
  name: string;
  dtype: string | null;
  shape: (number | string)[] | null;
}

/** What a reader returns: the tensors and the hints of a model file. */
export interface TensorHeader {
  format: TensorFormat;
  tensors: TensorInfo[];
  /** Architecture hints from the metadata (architecture, producer, opset, context length, …). */
  hints: Record<string, string | number>;
  /** ONNX graph inputs and outputs; empty for the other formats. */
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

/** What the index keeps of a header (docs/design.md §15): counts, dtypes and hints, no tensor list. */
export interface TensorSummary {
  format: TensorFormat;
  tensorCount: number;
  parameterCount: number;
  /** Bytes the tensors occupy (in this file and any shards). */
  tensorBytes: number;
  /** Parameters per dtype. */
  dtypes: Record<string, number>;
  hints: Record<string, string | number>;
}

/** Another file of the same version, as a reader may ask for it (TF.js shards, ONNX external data). */
export interface SiblingFile {
  /** Its path in the version. */
  path: string;
  size: number;
}

/** What a reader may know about the file besides its bytes. */
export interface ReadContext {
  /** The version path of the file being read (to name it and to refuse self-references). */
  path: string;
  /** A file of the version by a path relative to this file's folder, or null when the version has none. */
  sibling(relPath: string): SiblingFile | null;
}

/**
 * Limits every reader enforces, so a hostile file costs bounded memory and time: a header
 * (everything but the weight bytes) is read up to `headerBytes`; past `tensors` tensors, a
 * string longer than `stringBytes` or nesting deeper than `depth`, the file is refused.
 */
export const TENSOR_LIMITS = {
  /** safetensors' own limit (100 MB) and the read budget of every other header. */
  headerBytes: 100_000_000,
  tensors: 1_000_000,
  dims: 16,
  /** GGUF metadata entries. */
  metadataEntries: 1_000_000,
  stringBytes: 16 * 1024 * 1024,
  nameBytes: 64 * 1024,
  depth: 16,
  /** Hints kept per file (the rest of the metadata stays in the file). */
  hints: 32,
  hintChars: 200,
  /** ONNX graph nodes. */
  nodes: 10_000_000,
} as const;

/** The error of a malformed or hostile header: exit 6, hostile content (docs/design.md §3). */
export function headerError(format: TensorFormat, path: string, message: string): IntegrityError {
  return new IntegrityError('TENSOR_HEADER_INVALID', `${path}: not a valid ${FORMAT_LABEL[format]} file: ${message}`, {
    hint: 'the file is damaged or crafted; re-export it from its framework (its bytes are stored as they are)',
    data: { format, path },
  });
}

/** How people name each format. */
export const FORMAT_LABEL: Record<TensorFormat, string> = { safetensors: 'safetensors', gguf: 'GGUF', onnx: 'ONNX', tfjs: 'TF.js' };

/** The product of a shape as a safe integer, or null when a dimension is invalid or the product overflows. */
export function elementCount(shape: readonly number[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return null;
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/** Bytes of `elements` values of `bits` bits each, packed (sub-byte types round up). */
export function packedBytes(elements: number, bits: number): number {
  return bits % 8 === 0 ? elements * (bits / 8) : Math.ceil((elements * bits) / 8);
}

/**
 * Refuses segments that overlap within one file (two tensors claiming the same bytes make
 * an edit of one look like an edit of both, and are how polyglot files hide content).
 * Zero-length segments never overlap.
 */
export function assertNoOverlaps(format: TensorFormat, path: string, tensors: readonly TensorInfo[]): void {
  const byFile = new Map<string | null, { start: number; end: number; name: string }[]>();
  for (const t of tensors) {
    for (const s of t.segments) {
      if (s.length === 0) continue;
      let list = byFile.get(s.file);
      if (!list) byFile.set(s.file, (list = []));
      list.push({ start: s.offset, end: s.offset + s.length, name: t.name });
    }
  }
  for (const [file, list] of byFile) {
    list.sort((a, b) => a.start - b.start || a.end - b.end);
    for (let i = 1; i < list.length; i++) {
      if (list[i].start < list[i - 1].end) {
        throw headerError(format, path, `tensors '${clip(list[i - 1].name)}' and '${clip(list[i].name)}' overlap${file ? ` in ${file}` : ''}`);
      }
    }
  }
}

/** A name shortened for an error message. */
export function clip(s: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Adds a hint when there is room, shortening long strings (metadata is untrusted and unbounded). */
export function addHint(hints: Record<string, string | number>, key: string, value: unknown): void {
  if (Object.keys(hints).length >= TENSOR_LIMITS.hints || Object.hasOwn(hints, key)) return;
  if (typeof value === 'number' && Number.isFinite(value)) hints[key] = value;
  else if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)) hints[key] = Number(value);
  else if (typeof value === 'string' && value.length > 0) hints[key] = clip(value, TENSOR_LIMITS.hintChars);
}
