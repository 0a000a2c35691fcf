import type { TensorFormat } from './tensor-header.js';

/**
 * The format a file may hold, judged by its name alone so commit skips every other file
 * without opening it: `.safetensors`, `.gguf`, `.onnx`, and `.json` (a TF.js manifest only
 * when its content says so: `looksLikeTfjs`).
 */
export function formatByName(path: string): TensorFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (lower.endsWith('.gguf')) return 'gguf';
  if (lower.endsWith('.onnx')) return 'onnx';
  if (lower.endsWith('.json')) return 'tfjs';
  return null;
}
