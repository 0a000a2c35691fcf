import type { ByteSource } from './byte-source.js';
import { readGguf } from './gguf.js';
import { readOnnx } from './onnx.js';
import { readSafetensors } from './safetensors.js';
import type { ReadContext, TensorFormat, TensorHeader, TensorSummary } from './tensor-header.js';
import { looksLikeTfjs, readTfjs } from './tfjs.js';

export { looksLikeTfjs };
// Its own module so commit can tell whether any file needs a reader without loading them.
export { formatByName } from './format-name.js';

/** Reads the header of a file in `format`; a malformed or hostile one throws TENSOR_HEADER_INVALID (exit 6). */
export function readTensorHeader(format: TensorFormat, src: ByteSource, ctx: ReadContext): TensorHeader {
  switch (format) {
    case 'safetensors':
      return readSafetensors(src, ctx);
    case 'gguf':
      return readGguf(src, ctx);
    case 'onnx':
      return readOnnx(src, ctx);
    case 'tfjs':
      return readTfjs(src, ctx);
  }
}

/** The summary of a header. */
export function summarizeHeader(h: TensorHeader): TensorSummary {
  const dtypes: Record<string, number> = {};
  let parameterCount = 0;
  let tensorBytes = 0;
  for (const t of h.tensors) {
    parameterCount += t.parameters;
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + t.parameters;
    for (const s of t.segments) tensorBytes += s.length;
  }
  return { format: h.format, tensorCount: h.tensors.length, parameterCount, tensorBytes, dtypes, hints: h.hints };
}
