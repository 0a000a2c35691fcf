import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gguf } from '@huggingface/gguf';
import { describe, expect, it } from 'vitest';
import { ModelctlError } from '../../src/errors.js';
import { bufferSource } from '../../src/formats/byte-source.js';
import { readGguf } from '../../src/formats/gguf.js';
import { ONNX_DESCRIPTOR } from '../../src/formats/onnx/onnx-descriptor.js';
import { readOnnx } from '../../src/formats/onnx.js';
import { summarizeHeader } from '../../src/formats/read-header.js';
import { readSafetensors } from '../../src/formats/safetensors.js';
import type { ReadContext, TensorHeader } from '../../src/formats/tensor-header.js';
import { readTfjs } from '../../src/formats/tfjs.js';
import { onnxDescriptorFromProto } from '../helpers/onnx-descriptor-source.js';
import { buildGguf, buildSafetensors, encodeOnnx, smallOnnxModel } from '../helpers/tensor-files.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/tensors/', import.meta.url));
const fixture = (rel: string) => readFileSync(join(FIXTURES, rel));

/** A reader context over an in-memory version: path → size. */
function ctx(path: string, siblings: Record<string, number> = {}): ReadContext {
  return {
    path,
    sibling: (rel) => {
      const p = path.includes('/') ? `${path.slice(0, path.lastIndexOf('/') + 1)}${rel}` : rel;
      return p in siblings ? { path: p, size: siblings[p] } : null;
    },
  };
}

/** Asserts the reader refuses the bytes as a hostile header (exit 6), never another failure. */
function expectRefused(read: () => TensorHeader): ModelctlError {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelctlError);
    expect((err as ModelctlError).code).toBe('TENSOR_HEADER_INVALID');
    expect((err as ModelctlError).exitCode).toBe(6);
    return err as ModelctlError;
  }
  throw new Error('the reader accepted a hostile file');
}

const f32 = (values: number[]) => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
};

describe('safetensors', () => {
  const good = () =>
    buildSafetensors(
      [
        { name: 'w', dtype: 'F32', shape: [2, 3], data: f32([1, 2, 3, 4, 5, 6]) },
        { name: 'b', dtype: 'BF16', shape: [4], data: Buffer.alloc(8, 1) },
        { name: 'step', dtype: 'I64', shape: [], data: Buffer.alloc(8, 2) },
        { name: 'empty', dtype: 'F16', shape: [0, 5], data: Buffer.alloc(0) },
      ],
      { format: 'pt' },
    );

  it('reads names, dtypes, shapes, parameters and absolute byte ranges', () => {
    const bytes = good();
    const h = readSafetensors(bufferSource(bytes), ctx('m.safetensors'));
    const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.parameters])).toEqual([
      ['w', 'f32', [2, 3], 6],
      ['b', 'bf16', [4], 4],
      ['step', 'i64', [], 1],
      ['empty', 'f16', [0, 5], 0],
    ]);
    const w = h.tensors[0].segments[0];
    expect(w).toEqual({ file: null, offset: dataStart, length: 24 });
    expect(bytes.subarray(w.offset, w.offset + w.length)).toEqual(f32([1, 2, 3, 4, 5, 6]));
    expect(h.hints).toEqual({ format: 'pt' });
    expect(summarizeHeader(h)).toMatchObject({ tensorCount: 4, parameterCount: 11, tensorBytes: 40, dtypes: { f32: 6, bf16: 4, i64: 1, f16: 0 } });
  });

  it('reads only the header: the data bytes are never asked for', () => {
    const bytes = good();
    const reads: [number, number][] = [];
    const src = bufferSource(bytes);
    readSafetensors({ size: src.size, read: (o, l) => (reads.push([o, l]), src.read(o, l)) }, ctx('m.safetensors'));
    const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
    expect(reads.every(([o, l]) => o + l <= headerEnd)).toBe(true);
  });

  const withHeaderLength = (bytes: Buffer, n: bigint) => {
    const b = Buffer.from(bytes);
    b.writeBigUInt64LE(n);
    return b;
  };
  const withJson = (json: string, data: Buffer) => {
    const j = Buffer.from(json, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(j.length));
    return Buffer.concat([len, j, data]);
  };
  const hostile: Record<string, () => Buffer> = {
    'a 4 GiB header length': () => withHeaderLength(good(), 4n * 1024n ** 3n),
    'a header length past the end': () => withHeaderLength(good(), BigInt(good().length)),
    'fewer than 8 bytes': () => Buffer.from([1, 2, 3]),
    'invalid JSON': () => withJson('{"w": {"dtype": ', Buffer.alloc(4)),
    'invalid UTF-8': () => withJson('{"\xff\xfe": 1}'.replace(/./g, (c) => c), Buffer.alloc(0)).fill(0xff, 9, 11),
    'a JSON array': () => withJson('[1,2]', Buffer.alloc(0)),
    'an unknown dtype': () => withJson('{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', Buffer.alloc(16)),
    'a length that disagrees with dtype × shape': () => withJson('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', Buffer.alloc(8)),
    'offsets past the buffer': () => withJson('{"w":{"dtype":"U8","shape":[64],"data_offsets":[0,64]}}', Buffer.alloc(8)),
    'reversed offsets': () => withJson('{"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}', Buffer.alloc(8)),
    'overlapping tensors': () =>
      withJson('{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}}', Buffer.alloc(12)),
    'a duplicated name (its first range becomes a hole)': () =>
      withJson('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', Buffer.alloc(8)),
    'trailing bytes no tensor owns': () => withJson('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', Buffer.alloc(64)),
    'a negative dimension': () => withJson('{"a":{"dtype":"U8","shape":[-4],"data_offsets":[0,4]}}', Buffer.alloc(4)),
    'a shape whose size overflows': () => withJson('{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,4]}}', Buffer.alloc(4)),
    'non-string metadata': () => withJson('{"__metadata__":{"x":1}}', Buffer.alloc(0)),
  };
  for (const [what, make] of Object.entries(hostile)) {
    it(`refuses ${what}`, () => {
      expectRefused(() => readSafetensors(bufferSource(make()), ctx('bad.safetensors')));
    });
  }
});

describe('GGUF', () => {
  const model = () =>
    buildGguf({
      metadata: {
        'general.architecture': { type: 'string', value: 'llama' },
        'general.name': { type: 'string', value: 'tiny-llama' },
        'llama.context_length': { type: 'u32', value: 4096 },
        'llama.block_count': { type: 'u32', value: 2 },
        'general.file_type': { type: 'u32', value: 7 },
        'tokenizer.ggml.tokens': { type: 'strings', value: ['<s>', '</s>', 'hello', 'wörld'] },
        'tokenizer.ggml.token_type': { type: 'i32s', value: [3, 3, 1, 1] },
      },
      tensors: [
        { name: 'token_embd.weight', dims: [4, 2], type: 0, data: f32([1, 2, 3, 4, 5, 6, 7, 8]) },
        { name: 'blk.0.attn_q.weight', dims: [32, 2], type: 8, data: Buffer.alloc(2 * 34, 7) },
        { name: 'output_norm.weight', dims: [4], type: 1, data: Buffer.alloc(8, 3) },
        { name: 'blk.0.ffn.weight', dims: [256, 1], type: 12, data: Buffer.alloc(144, 9) },
      ],
    });

  it('reads tensor infos (shape outermost first), metadata hints and the aligned data offsets', () => {
    const bytes = model();
    const h = readGguf(bufferSource(bytes), ctx('m.gguf'));
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.parameters, t.segments[0].length])).toEqual([
      ['token_embd.weight', 'f32', [2, 4], 8, 32],
      ['blk.0.attn_q.weight', 'q8_0', [2, 32], 64, 68],
      ['output_norm.weight', 'f16', [4], 4, 8],
      ['blk.0.ffn.weight', 'q4_k', [1, 256], 256, 144],
    ]);
    const e = h.tensors[0].segments[0];
    expect(e.offset % 32).toBe(0);
    expect(bytes.subarray(e.offset, e.offset + e.length)).toEqual(f32([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(h.hints).toMatchObject({ architecture: 'llama', name: 'tiny-llama', 'llama.context_length': 4096, 'llama.block_count': 2, 'general.file_type': 7 });
  });

  it('agrees with @huggingface/gguf on the file the test wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gguf-'));
    try {
      const path = join(dir, 'm.gguf');
      const bytes = model();
      writeFileSync(path, bytes);
      const theirs = await gguf(path, { allowLocalFile: true, computeParametersCount: true });
      const ours = readGguf(bufferSource(bytes), ctx('m.gguf'));
      expect(theirs.metadata['general.architecture']).toBe('llama');
      expect(theirs.metadata['tokenizer.ggml.tokens']).toEqual(['<s>', '</s>', 'hello', 'wörld']);
      expect(theirs.tensorInfos.map((t) => t.name)).toEqual(ours.tensors.map((t) => t.name));
      expect(theirs.tensorInfos.map((t) => t.shape.map(Number).reverse())).toEqual(ours.tensors.map((t) => t.shape));
      const dataStart = Number(theirs.tensorDataOffset);
      expect(theirs.tensorInfos.map((t) => dataStart + Number(t.offset))).toEqual(ours.tensors.map((t) => t.segments[0].offset));
      expect(theirs.parameterCount).toBe(summarizeHeader(ours).parameterCount);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads version 2 files', () => {
    const bytes = model();
    bytes.writeUInt32LE(2, 4);
    expect(readGguf(bufferSource(bytes), ctx('m.gguf')).tensors).toHaveLength(4);
  });

  /** Offset of the first byte after the metadata (the tensor infos). */
  const infosAt = (bytes: Buffer) => {
    const key = Buffer.from('tokenizer.ggml.token_type');
    return bytes.indexOf(key) + key.length + 4 + 4 + 8 + 16;
  };
  const hostile: Record<string, () => Buffer> = {
    'another magic': () => Buffer.concat([Buffer.from('GGUG'), model().subarray(4)]),
    'version 1': () => { const b = model(); b.writeUInt32LE(1, 4); return b; },
    'a big-endian file': () => { const b = model(); b.writeUInt32BE(3, 4); return b; },
    'a tensor count of 2^40': () => { const b = model(); b.writeBigUInt64LE(1n << 40n, 8); return b; },
    'a metadata count past the limit': () => { const b = model(); b.writeBigUInt64LE(1n << 33n, 16); return b; },
    'a 4 GiB string length': () => { const b = model(); b.writeBigUInt64LE(4n * 1024n ** 3n, 24); return b; },
    'a string running past the end': () => model().subarray(0, 40),
    'truncated tensor infos': () => { const b = model(); return b.subarray(0, infosAt(b) + 10); },
    'a duplicated tensor name': () =>
      buildGguf({ metadata: {}, tensors: [{ name: 'a', dims: [4], type: 0, data: Buffer.alloc(16) }, { name: 'a', dims: [4], type: 0, data: Buffer.alloc(16) }] }),
    'a duplicated metadata key': () => {
      const one = buildGguf({ metadata: { 'general.name': { type: 'string', value: 'x' } }, tensors: [] });
      const kv = one.subarray(24, 24 + 8 + 'general.name'.length + 4 + 8 + 1);
      const b = Buffer.concat([one.subarray(0, 24), kv, kv]);
      b.writeBigUInt64LE(2n, 16);
      return b;
    },
    'an unknown ggml type': () => buildGguf({ metadata: {}, tensors: [{ name: 'a', dims: [4], type: 99, data: Buffer.alloc(16) }] }),
    'a row that is not whole blocks': () => buildGguf({ metadata: {}, tensors: [{ name: 'a', dims: [33], type: 8, data: Buffer.alloc(68) }] }),
    'an offset past the end': () => {
      const b = buildGguf({ metadata: {}, tensors: [{ name: 'a', dims: [4], type: 0, data: Buffer.alloc(16) }] });
      const at = b.indexOf(Buffer.from('a')) + 1 + 4 + 8 + 4;
      b.writeBigUInt64LE(1n << 20n, at);
      return b;
    },
    'a misaligned offset': () => {
      const b = buildGguf({ metadata: {}, tensors: [{ name: 'a', dims: [4], type: 0, data: Buffer.alloc(64) }] });
      const at = b.indexOf(Buffer.from('a')) + 1 + 4 + 8 + 4;
      b.writeBigUInt64LE(4n, at);
      return b;
    },
    'overlapping tensors': () => {
      const b = buildGguf({ metadata: {}, tensors: [{ name: 'a', dims: [8], type: 0, data: Buffer.alloc(32) }, { name: 'b', dims: [8], type: 0, data: Buffer.alloc(32) }] });
      const at = b.indexOf(Buffer.from('b'), 24) + 1 + 4 + 8 + 4;
      b.writeBigUInt64LE(0n, at);
      return b;
    },
    'five dimensions': () => buildGguf({ metadata: {}, tensors: [{ name: 'a', dims: [1, 1, 1, 1, 1], type: 0, data: Buffer.alloc(4) }] }),
    'an alignment that is not a power of two': () => buildGguf({ metadata: { 'general.alignment': { type: 'u32', value: 24 } }, tensors: [] }),
    'arrays nested past the depth limit': () => {
      const parts = [Buffer.from('GGUF'), Buffer.alloc(4), Buffer.alloc(8), Buffer.alloc(8)];
      parts[1].writeUInt32LE(3);
      parts[3].writeBigUInt64LE(1n);
      const key = Buffer.from('deep');
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(key.length));
      parts.push(len, key);
      const arr = Buffer.alloc(4);
      arr.writeUInt32LE(9);
      parts.push(arr);
      for (let i = 0; i < 40; i++) {
        const item = Buffer.alloc(12);
        item.writeUInt32LE(9, 0);
        item.writeBigUInt64LE(1n, 4);
        parts.push(item);
      }
      return Buffer.concat(parts);
    },
  };
  for (const [what, make] of Object.entries(hostile)) {
    it(`refuses ${what}`, () => {
      expectRefused(() => readGguf(bufferSource(make()), ctx('bad.gguf')));
    });
  }
});

/** Every tensor of an ONNX model by a full decode (the whole file in memory): the test's independent view. */
function fullDecodeInitializers(bytes: Buffer): { name: string; elements: number; raw: Buffer | null }[] {
  const require = createRequire(import.meta.url);
  const protobuf = require('protobufjs') as typeof import('protobufjs');
  const Model = protobuf.Root.fromJSON(ONNX_DESCRIPTOR as never).lookupType('onnx.ModelProto');
  const m = Model.toObject(Model.decode(bytes), { longs: Number, bytes: Buffer }) as {
    graph: Graph;
  };
  interface Tensor { name?: string; dims?: number[]; raw_data?: Buffer }
  interface Graph { initializer?: Tensor[]; node?: { op_type?: string; output?: string[]; attribute?: { t?: Tensor; g?: Graph; graphs?: Graph[] }[] }[] }
  const out: { name: string; elements: number; raw: Buffer | null }[] = [];
  const walk = (g: Graph) => {
    for (const t of g.initializer ?? []) out.push({ name: t.name ?? '', elements: (t.dims ?? []).reduce((a, b) => a * b, 1), raw: t.raw_data ?? null });
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t) out.push({ name: a.t.name ?? '', elements: (a.t.dims ?? []).reduce((x, y) => x * y, 1), raw: a.t.raw_data ?? null });
        if (a.g) walk(a.g);
        for (const sg of a.graphs ?? []) walk(sg);
      }
    }
  };
  walk(m.graph);
  return out;
}

describe('ONNX', () => {
  it('the shipped descriptor is exactly what protobufjs makes of the shipped onnx.proto', () => {
    expect(JSON.parse(JSON.stringify(ONNX_DESCRIPTOR))).toEqual(JSON.parse(JSON.stringify(onnxDescriptorFromProto())));
  });

  it('reads a real PyTorch export (openwakeword hey_rhasspy): initializers, Constant values, signature, hints', () => {
    const bytes = fixture('openwakeword/hey_rhasspy_v0.1.onnx');
    const h = readOnnx(bufferSource(bytes), ctx('hey_rhasspy_v0.1.onnx'));
    expect(h.tensors).toHaveLength(14);
    expect(summarizeHeader(h)).toMatchObject({ parameterCount: 50405, dtypes: { f32: 50405 } });
    const w = h.tensors.find((t) => t.name === '1.weight');
    expect(w).toMatchObject({ dtype: 'f32', shape: [32, 1536], parameters: 49152 });
    // The byte range is exactly the tensor's raw_data as a full decode sees it.
    const seg = w!.segments[0];
    const full = fullDecodeInitializers(bytes).find((t) => t.name === '1.weight');
    expect(bytes.subarray(seg.offset, seg.offset + seg.length).equals(full!.raw!)).toBe(true);
    expect(h.inputs).toEqual([{ name: 'onnx::Flatten_0', dtype: 'f32', shape: [1, 16, 96] }]);
    expect(h.outputs).toHaveLength(1);
    expect(h.hints).toMatchObject({ producer: 'pytorch 1.13.1', ir_version: 7, opset: 14 });
  });

  it('reads weights inside If subgraphs (silero_vad) and agrees with a full decode on every tensor', () => {
    const bytes = fixture('openwakeword/silero_vad.onnx');
    const h = readOnnx(bufferSource(bytes), ctx('silero_vad.onnx'));
    const full = fullDecodeInitializers(bytes);
    expect(h.tensors).toHaveLength(full.length);
    expect(summarizeHeader(h).parameterCount).toBe(full.reduce((s, t) => s + t.elements, 0));
    expect(h.tensors.some((t) => t.name.includes('/then_branch/') || t.name.includes('/else_branch/'))).toBe(true);
    expect(h.inputs.map((i) => i.name)).toEqual(['input', 'sr', 'h', 'c']);
    expect(h.inputs[0].shape).toEqual(['batch', 'sequence']);
  });

  it('never reads tensor data: reads stay far below the file size', () => {
    const bytes = fixture('openwakeword/silero_vad.onnx');
    let read = 0;
    const src = bufferSource(bytes);
    readOnnx({ size: src.size, read: (o, l) => ((read += l), src.read(o, l)) }, ctx('silero_vad.onnx'));
    expect(read).toBeLessThan(bytes.length / 2);
  });

  it('reads a model protobufjs encoded, with external data in another file of the version', () => {
    const model = smallOnnxModel({
      initializers: [
        { name: 'W', dims: [4, 3], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '16' }, { key: 'length', value: '48' }] },
        { name: 'b', dims: [3], data_type: 1, raw_data: Buffer.alloc(12) },
      ],
    });
    const h = readOnnx(bufferSource(encodeOnnx(model)), ctx('m/model.onnx', { 'm/weights.bin': 64 }));
    expect(h.tensors[0].segments).toEqual([{ file: 'm/weights.bin', offset: 16, length: 48 }]);
    expect(h.inputs[0].shape).toEqual(['batch', 4]);
  });

  const raw = (n: number) => Buffer.alloc(n * 4, 1);
  const hostile: Record<string, () => { bytes: Buffer; siblings?: Record<string, number> }> = {
    'random bytes': () => ({ bytes: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)) }),
    'a truncated file': () => { const b = encodeOnnx(smallOnnxModel()); return { bytes: b.subarray(0, b.length - 20) }; },
    'a lying length (a field longer than its message)': () => {
      const b = encodeOnnx(smallOnnxModel());
      const at = b.indexOf(0x3a); // field 7 (graph), wire type 2
      b[at + 1] = 0x7f;
      return { bytes: b.subarray(0, at + 40) };
    },
    'a 4 GiB field length': () => ({ bytes: Buffer.concat([Buffer.from([0x08, 0x07, 0x3a, 0x80, 0x80, 0x80, 0x80, 0x10]), Buffer.alloc(64)]) }),
    'a cyclic graph': () => ({
      bytes: encodeOnnx(smallOnnxModel({ nodes: [
        { op_type: 'Add', input: ['x', 'c'], output: ['a'], name: 'n1' },
        { op_type: 'Relu', input: ['a'], output: ['c'], name: 'n2' },
      ] })),
    }),
    'a node consuming its own output': () => ({ bytes: encodeOnnx(smallOnnxModel({ nodes: [{ op_type: 'Add', input: ['x', 'y'], output: ['y'] }] })) }),
    'two nodes producing one name': () => ({
      bytes: encodeOnnx(smallOnnxModel({ nodes: [{ op_type: 'Relu', input: ['x'], output: ['y'] }, { op_type: 'Relu', input: ['x'], output: ['y'] }] })),
    }),
    'duplicated initializer names': () => ({
      bytes: encodeOnnx(smallOnnxModel({ initializers: [{ name: 'W', dims: [2], data_type: 1, raw_data: raw(2) }, { name: 'W', dims: [2], data_type: 1, raw_data: raw(2) }] })),
    }),
    'raw data shorter than dtype × shape': () => ({ bytes: encodeOnnx(smallOnnxModel({ initializers: [{ name: 'W', dims: [4, 3], data_type: 1, raw_data: raw(5) }] })) }),
    'an unknown data type': () => ({ bytes: encodeOnnx(smallOnnxModel({ initializers: [{ name: 'W', dims: [2], data_type: 99, raw_data: raw(2) }] })) }),
    'a negative dimension': () => ({ bytes: encodeOnnx(smallOnnxModel({ initializers: [{ name: 'W', dims: [-2], data_type: 1, raw_data: raw(2) }] })) }),
    'external data outside the version': () => ({
      bytes: encodeOnnx(smallOnnxModel({ initializers: [{ name: 'W', dims: [2], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: '../../etc/passwd' }] }] })),
    }),
    'external data past its file\'s end': () => ({
      bytes: encodeOnnx(smallOnnxModel({ initializers: [{ name: 'W', dims: [2], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '60' }] }] })),
      siblings: { 'w.bin': 64 },
    }),
    'a model without a graph': () => ({ bytes: encodeOnnx({ ir_version: 8, producer_name: 'x' }) }),
    'an initializer with elements and no data': () => ({ bytes: encodeOnnx(smallOnnxModel({ initializers: [{ name: 'W', dims: [4], data_type: 1 }] })) }),
  };
  for (const [what, make] of Object.entries(hostile)) {
    it(`refuses ${what}`, () => {
      const { bytes, siblings } = make();
      expectRefused(() => readOnnx(bufferSource(bytes), ctx('bad.onnx', siblings)));
    });
  }
});

describe('TF.js', () => {
  it('reads a bare weights manifest (face-api tiny_face_detector, uint8-quantized)', () => {
    const json = fixture('face-api/tiny_face_detector_model-weights_manifest.json');
    const bin = fixture('face-api/tiny_face_detector_model.bin');
    const h = readTfjs(bufferSource(json), ctx('face/tiny_face_detector_model-weights_manifest.json', { 'face/tiny_face_detector_model.bin': bin.length }));
    expect(h.tensors).toHaveLength(19);
    expect(h.tensors[0]).toMatchObject({ name: 'conv0/filters', dtype: 'f32', storage: 'u8', shape: [3, 3, 3, 16], segments: [{ file: 'face/tiny_face_detector_model.bin', offset: 0, length: 432 }] });
    const s = summarizeHeader(h);
    expect(s.tensorBytes).toBe(bin.length);
    expect(s.parameterCount).toBe(193321);
  });

  it('reads a graph-model model.json (human-models liveness)', () => {
    const json = fixture('human-models/liveness.json');
    const bin = fixture('human-models/liveness.bin');
    const h = readTfjs(bufferSource(json), ctx('liveness.json', { 'liveness.bin': bin.length }));
    expect(h.tensors).toHaveLength(23);
    expect(summarizeHeader(h).tensorBytes).toBe(bin.length);
    expect(h.hints).toMatchObject({ format: 'graph-model' });
  });

  it('splits a weight that spans two shards into two segments', () => {
    const manifest = JSON.stringify({ weightsManifest: [{ paths: ['s1.bin', 's2.bin'], weights: [{ name: 'a', shape: [3], dtype: 'float32' }, { name: 'b', shape: [4], dtype: 'float32' }] }] });
    const h = readTfjs(bufferSource(Buffer.from(manifest)), ctx('model.json', { 's1.bin': 16, 's2.bin': 12 }));
    expect(h.tensors[1].segments).toEqual([
      { file: 's1.bin', offset: 12, length: 4 },
      { file: 's2.bin', offset: 0, length: 12 },
    ]);
  });

  const m = (groups: unknown) => Buffer.from(JSON.stringify({ modelTopology: {}, weightsManifest: groups }));
  const hostile: Record<string, () => { bytes: Buffer; siblings?: Record<string, number> }> = {
    'a missing shard': () => ({ bytes: m([{ paths: ['gone.bin'], weights: [{ name: 'a', shape: [1], dtype: 'float32' }] }]) }),
    'a shard that is the manifest itself (a cycle)': () => ({ bytes: m([{ paths: ['model.json'], weights: [] }]), siblings: { 'model.json': 100 } }),
    'a shard listed twice': () => ({ bytes: m([{ paths: ['s.bin', 's.bin'], weights: [] }]), siblings: { 's.bin': 8 } }),
    'duplicated weight names': () => ({ bytes: m([{ paths: ['s.bin'], weights: [{ name: 'a', shape: [1], dtype: 'float32' }, { name: 'a', shape: [1], dtype: 'float32' }] }]), siblings: { 's.bin': 8 } }),
    'weights needing more bytes than the shards hold': () => ({ bytes: m([{ paths: ['s.bin'], weights: [{ name: 'a', shape: [1000], dtype: 'float32' }] }]), siblings: { 's.bin': 8 } }),
    'a string weight': () => ({ bytes: m([{ paths: ['s.bin'], weights: [{ name: 'a', shape: [1], dtype: 'string' }] }]), siblings: { 's.bin': 8 } }),
    'a manifest that is not a list of groups': () => ({ bytes: m({ paths: 'x' }) }),
    'invalid JSON': () => ({ bytes: Buffer.from('{"weightsManifest": [') }),
    'a shard path escaping the version': () => ({ bytes: m([{ paths: ['../../secret.bin'], weights: [] }]), siblings: { 'secret.bin': 8 } }),
  };
  for (const [what, make] of Object.entries(hostile)) {
    it(`refuses ${what}`, () => {
      const { bytes, siblings } = make();
      expectRefused(() => readTfjs(bufferSource(bytes), ctx('model.json', siblings)));
    });
  }
});
