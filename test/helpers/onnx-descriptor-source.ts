import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The reflection descriptor protobufjs builds from the shipped onnx.proto: what
 * src/formats/onnx/onnx-descriptor.ts must hold. `npx vite-node test/helpers/print-onnx-descriptor.ts`
 * prints the module to commit after onnx.proto changes; test/unit/tensor-formats.test.ts
 * checks the two agree.
 */
export function onnxDescriptorFromProto(): unknown {
  const require = createRequire(import.meta.url);
  const protobuf = require('protobufjs') as typeof import('protobufjs');
  const proto = readFileSync(fileURLToPath(new URL('../../src/formats/onnx/onnx.proto', import.meta.url)), 'utf8');
  return protobuf.parse(proto, { keepCase: true }).root.toJSON();
}

/** The TypeScript module text of the descriptor. */
export function onnxDescriptorModule(): string {
  return `// Generated from onnx.proto (next to this file) by test/helpers/onnx-descriptor-source.ts: do not edit.
// protobufjs's reflection JSON of the ONNX schema, loaded by onnx-schema.ts with protobufjs/light.
export const ONNX_DESCRIPTOR = ${JSON.stringify(onnxDescriptorFromProto(), null, 2)};
`;
}

