import { createRequire } from 'node:module';
import type { INamespace, Reader, Type } from 'protobufjs';
import { ONNX_DESCRIPTOR } from './onnx-descriptor.js';

/** The ONNX message types the reader decodes, with the field numbers it walks by. */
export interface OnnxSchema {
  createReader(bytes: Uint8Array): Reader;
  ModelProto: Type;
  GraphProto: Type;
  NodeProto: Type;
  AttributeProto: Type;
  TensorProto: Type;
  SparseTensorProto: Type;
  ValueInfoProto: Type;
  /** Field numbers by message and field name, read from the schema (never typed in by hand). */
  id(message: 'ModelProto' | 'GraphProto' | 'NodeProto' | 'AttributeProto' | 'TensorProto' | 'SparseTensorProto', field: string): number;
}

let cached: OnnxSchema | null = null;

/**
 * The ONNX schema (onnx.proto of ONNX 1.12, shipped as protobufjs reflection JSON in
 * onnx-descriptor.ts), loaded with protobufjs/light on first use so other commands never pay
 * for it.
 */
export function onnxSchema(): OnnxSchema {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const protobuf = require('protobufjs/light.js') as typeof import('protobufjs');
  const root = protobuf.Root.fromJSON(ONNX_DESCRIPTOR as unknown as INamespace);
  const type = (name: string) => root.lookupType(`onnx.${name}`);
  const types = {
    ModelProto: type('ModelProto'),
    GraphProto: type('GraphProto'),
    NodeProto: type('NodeProto'),
    AttributeProto: type('AttributeProto'),
    TensorProto: type('TensorProto'),
    SparseTensorProto: type('SparseTensorProto'),
    ValueInfoProto: type('ValueInfoProto'),
  };
  cached = {
    ...types,
    createReader: (bytes) => protobuf.Reader.create(bytes),
    id(message, field) {
      const f = types[message].fields[field];
      if (!f) throw new Error(`BUG: onnx.${message} has no field ${field}`);
      return f.id;
    },
  };
  return cached;
}
