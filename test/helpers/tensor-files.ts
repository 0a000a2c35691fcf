import { onnxSchema } from '../../src/formats/onnx/onnx-schema.js';

/**
 * Model files built by the tests from the formats' published specifications (so no fixture
 * is needed for safetensors and GGUF), and ONNX models encoded with protobufjs over the
 * shipped schema (hostile variants are then made by editing the bytes).
 */

/** A safetensors tensor: spec dtype (F32, BF16, …), shape and its bytes. */
export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Buffer;
}

/**
 * The safetensors layout: u64 little-endian header length N, N bytes of JSON (padded with
 * spaces to a multiple of 8, as the reference writer does), then the tensors' bytes in order.
 */
export function buildSafetensors(tensors: readonly SafetensorsTensor[], metadata?: Record<string, string>, opts: { header?: Record<string, unknown> } = {}): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let at = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.length] };
    at += t.data.length;
  }
  Object.assign(header, opts.header ?? {});
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...tensors.map((t) => t.data)]);
}

/** GGUF metadata value types (the GGUF spec). */
export const GGUF_TYPE = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const;

export type GgufValue =
  | { type: 'string'; value: string }
  | { type: 'u32'; value: number }
  | { type: 'u64'; value: bigint }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'strings'; value: string[] }
  | { type: 'i32s'; value: number[] };

/** A GGUF tensor: dimensions innermost first (ne[0] first, as GGUF stores them), ggml type and its bytes. */
export interface GgufTensor {
  name: string;
  dims: number[];
  type: number;
  data: Buffer;
}

/**
 * The GGUF v3 layout (little-endian): magic "GGUF", version, tensor count, metadata count,
 * the key/values, the tensor infos (name, n_dims, dims, type, offset), padding to the
 * alignment, then each tensor's data at its offset, each offset a multiple of the alignment.
 */
export function buildGguf(opts: { version?: number; metadata: Record<string, GgufValue>; tensors: readonly GgufTensor[]; alignment?: number }): Buffer {
  const alignment = opts.alignment ?? 32;
  const parts: Buffer[] = [];
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); parts.push(b); };
  const u64 = (n: bigint | number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); parts.push(b); };
  const str = (s: string) => { const b = Buffer.from(s, 'utf8'); u64(b.length); parts.push(b); };
  parts.push(Buffer.from('GGUF', 'latin1'));
  u32(opts.version ?? 3);
  u64(opts.tensors.length);
  u64(Object.keys(opts.metadata).length);
  for (const [key, v] of Object.entries(opts.metadata)) {
    str(key);
    switch (v.type) {
      case 'string': u32(GGUF_TYPE.STRING); str(v.value); break;
      case 'u32': u32(GGUF_TYPE.UINT32); u32(v.value); break;
      case 'u64': u32(GGUF_TYPE.UINT64); u64(v.value); break;
      case 'f32': { u32(GGUF_TYPE.FLOAT32); const b = Buffer.alloc(4); b.writeFloatLE(v.value); parts.push(b); break; }
      case 'bool': u32(GGUF_TYPE.BOOL); parts.push(Buffer.from([v.value ? 1 : 0])); break;
      case 'strings': u32(GGUF_TYPE.ARRAY); u32(GGUF_TYPE.STRING); u64(v.value.length); for (const s of v.value) str(s); break;
      case 'i32s': { u32(GGUF_TYPE.ARRAY); u32(GGUF_TYPE.INT32); u64(v.value.length); for (const n of v.value) { const b = Buffer.alloc(4); b.writeInt32LE(n); parts.push(b); } break; }
    }
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of opts.tensors) {
    offsets.push(offset);
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  opts.tensors.forEach((t, i) => {
    str(t.name);
    u32(t.dims.length);
    for (const d of t.dims) u64(d);
    u32(t.type);
    u64(offsets[i]);
  });
  const head = Buffer.concat(parts);
  const dataStart = Math.ceil(head.length / alignment) * alignment;
  const data = Buffer.alloc(offset);
  opts.tensors.forEach((t, i) => t.data.copy(data, offsets[i]));
  return Buffer.concat([head, Buffer.alloc(dataStart - head.length), data]);
}

/** An ONNX model as protobufjs encodes it from a plain object (onnx.proto field names). */
export function encodeOnnx(model: Record<string, unknown>): Buffer {
  const s = onnxSchema();
  const msg = s.ModelProto.fromObject(model);
  return Buffer.from(s.ModelProto.encode(msg).finish());
}

/** A small valid ONNX model: input x → MatMul(W) → Add(b) → y, with W and b as initializers. */
export function smallOnnxModel(opts: { nodes?: Record<string, unknown>[]; initializers?: Record<string, unknown>[] } = {}): Record<string, unknown> {
  const f32 = (n: number, seed: number) => {
    const b = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) b.writeFloatLE((i * 7 + seed) % 13, i * 4);
    return b;
  };
  return {
    ir_version: 8,
    producer_name: 'modelctl-tests',
    producer_version: '1',
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'tiny',
      node: opts.nodes ?? [
        { op_type: 'MatMul', input: ['x', 'W'], output: ['h'], name: 'mm' },
        { op_type: 'Add', input: ['h', 'b'], output: ['y'], name: 'add' },
      ],
      initializer: opts.initializers ?? [
        { name: 'W', dims: [4, 3], data_type: 1, raw_data: f32(12, 1) },
        { name: 'b', dims: [3], data_type: 1, raw_data: f32(3, 2) },
      ],
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 4 }] } } } }],
      output: [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 3 }] } } } }],
    },
  };
}
