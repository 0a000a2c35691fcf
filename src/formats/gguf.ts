import type { ByteSource } from './byte-source.js';
import { GGML_TYPES } from './dtypes.js';
import { HeaderCursor } from './header-cursor.js';
import { TENSOR_LIMITS, addHint, assertNoOverlaps, clip, elementCount, headerError, type ReadContext, type TensorHeader, type TensorInfo } from './tensor-header.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** GGUF metadata value types (the GGUF spec's gguf_metadata_value_type). */
const enum ValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Fixed sizes of the scalar types, so arrays of them are skipped without being read. */
const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

const DEFAULT_ALIGNMENT = 32;
/** Dimensions a GGUF tensor may have (ggml's GGML_MAX_DIMS). */
const MAX_DIMS = 4;

/**
 * Reads a GGUF (version 2 or 3, little-endian) header: magic, version, tensor and metadata
 * counts, the metadata key/values, then each tensor's name, dimensions, ggml type and offset
 * into the aligned data section. Reads only the header (arrays such as the vocabulary are
 * stepped over, keeping their length); metadata keys `general.*` and `<architecture>.*`
 * become hints. Refused: another magic or version (v1, big-endian), counts past the limits,
 * strings that are not UTF-8 or run past the end, duplicate keys or tensor names, unknown
 * types, a first dimension that is not a whole number of blocks, offsets that are not
 * aligned, past the end of the file or overlapping.
 */
export function readGguf(src: ByteSource, ctx: ReadContext): TensorHeader {
  const fail = (msg: string) => headerError('gguf', ctx.path, msg);
  const c = new HeaderCursor(src, 0, src.size, fail);
  const magic = c.u32('the magic number');
  if (magic !== 0x46554747) throw fail('the file does not start with "GGUF"');
  const version = c.u32('the version');
  if (version === 0x02000000 || version === 0x03000000) throw fail('big-endian GGUF files are not supported');
  if (version !== 2 && version !== 3) throw fail(`version ${version} is not supported (2 and 3 are)`);
  const tensorCount = c.u64('the tensor count');
  const kvCount = c.u64('the metadata count');
  if (tensorCount > BigInt(TENSOR_LIMITS.tensors)) throw fail(`${tensorCount} tensors, more than the ${TENSOR_LIMITS.tensors} limit`);
  if (kvCount > BigInt(TENSOR_LIMITS.metadataEntries)) throw fail(`${kvCount} metadata entries, more than the ${TENSOR_LIMITS.metadataEntries} limit`);

  const readString = (what: string, max: number = TENSOR_LIMITS.stringBytes): string => {
    const len = c.u64(`the length of ${what}`);
    if (len > BigInt(max)) throw fail(`${what} claims ${len} bytes, more than the ${max}-byte limit`);
    try {
      return utf8.decode(c.bytes(Number(len), what));
    } catch (err) {
      if (err instanceof TypeError) throw fail(`${what} is not UTF-8`);
      throw err;
    }
  };
  const skipString = (what: string) => {
    const len = c.u64(`the length of ${what}`);
    if (len > BigInt(TENSOR_LIMITS.stringBytes)) throw fail(`${what} claims ${len} bytes, more than the ${TENSOR_LIMITS.stringBytes}-byte limit`);
    c.skip(Number(len), what);
  };
  /** A value: scalars and strings returned, arrays stepped over (their length returned as a string). */
  const readValue = (type: number, key: string, depth: number): unknown => {
    switch (type) {
      case ValueType.UINT8: return c.u8();
      case ValueType.INT8: { const v = c.u8(); return v > 127 ? v - 256 : v; }
      case ValueType.UINT16: return c.u16();
      case ValueType.INT16: return c.i16();
      case ValueType.UINT32: return c.u32();
      case ValueType.INT32: return c.i32();
      case ValueType.FLOAT32: return c.f32();
      case ValueType.BOOL: {
        const b = c.u8();
        if (b > 1) throw fail(`metadata '${clip(key)}' holds a bool of value ${b}`);
        return b === 1;
      }
      case ValueType.STRING: return readString(`metadata '${clip(key)}'`);
      case ValueType.UINT64: return c.u64();
      case ValueType.INT64: return c.i64();
      case ValueType.FLOAT64: return c.f64();
      case ValueType.ARRAY: {
        if (depth >= TENSOR_LIMITS.depth) throw fail(`metadata '${clip(key)}' nests arrays deeper than ${TENSOR_LIMITS.depth}`);
        const itemType = c.u32(`the item type of '${clip(key)}'`);
        const count = c.u64(`the length of '${clip(key)}'`);
        // Every item takes at least one byte: a count beyond the header budget is a lie.
        if (count > BigInt(TENSOR_LIMITS.headerBytes)) throw fail(`metadata '${clip(key)}' claims ${count} items`);
        const n = Number(count);
        const fixed = SCALAR_BYTES[itemType];
        if (fixed !== undefined) c.skip(n * fixed, `the items of '${clip(key)}'`);
        else if (itemType === ValueType.STRING) for (let i = 0; i < n; i++) skipString(`item ${i} of '${clip(key)}'`);
        else if (itemType === ValueType.ARRAY) for (let i = 0; i < n; i++) readValue(ValueType.ARRAY, key, depth + 1);
        else throw fail(`metadata '${clip(key)}' has arrays of unknown type ${itemType}`);
        return `${n} items`;
      }
      default:
        throw fail(`metadata '${clip(key)}' has unknown type ${type}`);
    }
  };

  const metadata = new Map<string, unknown>();
  for (let i = 0; i < Number(kvCount); i++) {
    const key = readString(`metadata key ${i}`, TENSOR_LIMITS.nameBytes);
    if (metadata.has(key)) throw fail(`metadata key '${clip(key)}' appears twice`);
    const type = c.u32(`the type of '${clip(key)}'`);
    metadata.set(key, readValue(type, key, 0));
  }

  let alignment = DEFAULT_ALIGNMENT;
  if (metadata.has('general.alignment')) {
    const a = metadata.get('general.alignment');
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 1 << 30 || (a & (a - 1)) !== 0) throw fail(`general.alignment ${String(a)} is not a power of two`);
    alignment = a;
  }

  const infos: { name: string; shape: number[]; type: number; offset: bigint }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < Number(tensorCount); i++) {
    const name = readString(`the name of tensor ${i}`, TENSOR_LIMITS.nameBytes);
    if (names.has(name)) throw fail(`tensor name '${clip(name)}' appears twice`);
    names.add(name);
    const nDims = c.u32(`the dimension count of '${clip(name)}'`);
    if (nDims > MAX_DIMS) throw fail(`tensor '${clip(name)}' has ${nDims} dimensions (at most ${MAX_DIMS})`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const v = c.u64(`a dimension of '${clip(name)}'`);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`tensor '${clip(name)}' has a dimension of ${v}`);
      dims.push(Number(v));
    }
    const type = c.u32(`the type of '${clip(name)}'`);
    const offset = c.u64(`the offset of '${clip(name)}'`);
    infos.push({ name, shape: dims, type, offset });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  if (dataStart > src.size && infos.length > 0) throw fail('the tensor data section starts past the end of the file');

  const tensors: TensorInfo[] = infos.map((info) => {
    const type = GGML_TYPES[info.type];
    if (!type) throw fail(`tensor '${clip(info.name)}' has unknown ggml type ${info.type}`);
    const elements = elementCount(info.shape);
    if (elements === null) throw fail(`tensor '${clip(info.name)}' has a shape whose size overflows`);
    const ne0 = info.shape[0] ?? 1;
    if (ne0 % type.blockElements !== 0) throw fail(`tensor '${clip(info.name)}': ${ne0} elements per row is not a whole number of ${type.name} blocks (${type.blockElements})`);
    const bytes = (elements / type.blockElements) * type.blockBytes;
    if (info.offset % BigInt(alignment) !== 0n) throw fail(`tensor '${clip(info.name)}' starts at ${info.offset}, not a multiple of the alignment ${alignment}`);
    if (info.offset > BigInt(src.size) || dataStart + Number(info.offset) + bytes > src.size) {
      throw fail(`tensor '${clip(info.name)}' (${bytes} bytes at data offset ${info.offset}) runs past the end of the ${src.size}-byte file`);
    }
    // GGUF lists dimensions innermost first (ne[0] is a row); shown outermost first like the other formats.
    return { name: info.name, dtype: type.name, shape: [...info.shape].reverse(), parameters: elements, segments: [{ file: null, offset: dataStart + Number(info.offset), length: bytes }] };
  });
  assertNoOverlaps('gguf', ctx.path, tensors);

  const hints: Record<string, string | number> = {};
  const arch = metadata.get('general.architecture');
  addHint(hints, 'architecture', arch);
  addHint(hints, 'name', metadata.get('general.name'));
  addHint(hints, 'gguf.version', version);
  for (const [key, value] of metadata) {
    if (key.startsWith('general.') || (typeof arch === 'string' && key.startsWith(`${arch}.`))) {
      if (key === 'general.architecture' || key === 'general.name') continue;
      addHint(hints, key, value);
    }
  }
  return { format: 'gguf', tensors, hints, inputs: [], outputs: [] };
}
