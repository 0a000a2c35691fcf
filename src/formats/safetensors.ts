import type { ByteSource } from './byte-source.js';
import { SAFETENSORS_DTYPES } from './dtypes.js';
import { TENSOR_LIMITS, addHint, assertNoOverlaps, clip, elementCount, headerError, packedBytes, type ReadContext, type TensorHeader, type TensorInfo } from './tensor-header.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a safetensors header: an 8-byte little-endian length N, N bytes of JSON mapping each
 * tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets into the byte buffer
 * that follows), and an optional `__metadata__` string map. Only the 8 + N header bytes are
 * read. Refused, per the spec: N over 100 MB or past the end, invalid UTF-8 or JSON, an
 * unknown dtype, offsets that disagree with dtype × shape, overlapping tensors, and a buffer
 * with holes or trailing bytes (a name given twice in the JSON keeps only its last entry,
 * which leaves the first entry's bytes as a hole).
 */
export function readSafetensors(src: ByteSource, ctx: ReadContext): TensorHeader {
  const fail = (msg: string) => headerError('safetensors', ctx.path, msg);
  if (src.size < 8) throw fail(`${src.size} bytes, shorter than the 8-byte header length`);
  const lenBytes = src.read(0, 8);
  const view = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(TENSOR_LIMITS.headerBytes)) throw fail(`header length ${headerLen} exceeds the ${TENSOR_LIMITS.headerBytes}-byte limit`);
  const n = Number(headerLen);
  if (8 + n > src.size) throw fail(`header length ${n} runs past the end of the ${src.size}-byte file`);
  if (n < 2) throw fail(`header length ${n} is too short for a JSON object`);
  let parsed: unknown;
  try {
    const text = utf8.decode(src.read(8, n));
    parsed = JSON.parse(text);
  } catch (err) {
    throw fail(`the header is not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw fail('the header is not a JSON object');

  const dataStart = 8 + n;
  const dataSize = src.size - dataStart;
  const tensors: TensorInfo[] = [];
  const hints: Record<string, string | number> = {};
  const ranges: { begin: number; end: number; name: string }[] = [];
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > TENSOR_LIMITS.tensors + 1) throw fail(`${entries.length} entries, more than the ${TENSOR_LIMITS.tensors}-tensor limit`);
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw fail(`__metadata__.${clip(k)} is not a string`);
        addHint(hints, k, v);
      }
      continue;
    }
    if (name.length > TENSOR_LIMITS.nameBytes) throw fail(`a tensor name of ${name.length} characters`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`tensor '${clip(name)}' is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    const type = typeof dtype === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, dtype) ? SAFETENSORS_DTYPES[dtype] : null;
    if (!type) throw fail(`tensor '${clip(name)}' has an unknown dtype ${clip(JSON.stringify(dtype) ?? '')}`);
    if (!Array.isArray(shape) || shape.length > TENSOR_LIMITS.dims || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(`tensor '${clip(name)}' has an invalid shape`);
    }
    const elements = elementCount(shape as number[]);
    if (elements === null) throw fail(`tensor '${clip(name)}' has a shape whose size overflows`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw fail(`tensor '${clip(name)}' has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataSize) throw fail(`tensor '${clip(name)}' ends at ${end}, past the ${dataSize}-byte buffer`);
    const expected = packedBytes(elements, type.bits as number);
    if (end - begin !== expected) throw fail(`tensor '${clip(name)}' spans ${end - begin} bytes, ${type.name} × ${JSON.stringify(shape)} needs ${expected}`);
    ranges.push({ begin, end, name });
    tensors.push({ name, dtype: type.name, shape: shape as number[], parameters: elements, segments: [{ file: null, offset: dataStart + begin, length: end - begin }] });
  }
  assertNoOverlaps('safetensors', ctx.path, tensors);
  // The spec asks for a buffer indexed entirely, without holes: no hidden bytes after the header.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const r of ranges) {
    if (r.begin !== at) throw fail(`bytes ${at}–${r.begin} of the buffer belong to no tensor (a hole before '${clip(r.name)}'; a name given twice?)`);
    at = r.end;
  }
  if (at !== dataSize) throw fail(`the last ${dataSize - at} bytes of the buffer belong to no tensor`);
  return { format: 'safetensors', tensors, hints, inputs: [], outputs: [] };
}
