import { NotFoundError, UsageError } from '../errors.js';
import { printable } from '../core/names.js';
import { summarizeHeader } from '../formats/read-header.js';
import type { TensorFormat, TensorHeader, TensorInfo, TensorSegment, TensorSignature, TensorSummary } from '../formats/tensor-header.js';
import { fileErrorOf, VersionTensorReader, type FileError, type TensorStoreAccess, type VersionFile } from './tensor-files.js';

/** One row of a tensor table (the --json shape; fields are only ever added). */
export interface TensorRow {
  name: string;
  dtype: string;
  shape: number[];
  parameters: number;
  /** Storage dtype when it differs (TF.js quantization). */
  storage: string | null;
  /** The file holding its bytes: null for the model file itself (a TF.js shard otherwise). */
  file: string | null;
  /** Where its bytes start in that file, and how many there are (all segments together). */
  offset: number;
  length: number;
  /** Every piece when the bytes span several files (TF.js shards); else absent. */
  segments?: TensorSegment[];
}

/** The tensor table of one model file, or why it could not be read. */
export interface TensorFileView {
  path: string;
  format: TensorFormat;
  summary: TensorSummary | null;
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  tensors: TensorRow[];
  error: FileError | null;
}

/** A tensor as a table row. */
export function tensorRow(t: TensorInfo): TensorRow {
  const first = t.segments[0];
  return {
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    parameters: t.parameters,
    storage: t.storage ?? null,
    file: first?.file ?? null,
    offset: first?.offset ?? 0,
    length: t.segments.reduce((s, x) => s + x.length, 0),
    ...(t.segments.length > 1 ? { segments: t.segments } : {}),
  };
}

/**
 * The tensor tables of a version's model files (or of the one at `only`), read from the
 * headers of the local objects. A file that cannot be read gets its error and the others
 * are still read; with `only`, its error is thrown (there is nothing else to show). A path
 * the version lacks is NOT_FOUND (3); one that is not a model file, NOT_A_MODEL_FILE (2).
 */
export function readTensorTables(repo: TensorStoreAccess, files: readonly VersionFile[], only?: string): TensorFileView[] {
  const reader = new VersionTensorReader(repo, files);
  try {
    let models = reader.modelFiles();
    if (only !== undefined) {
      if (!reader.file(only)) throw new NotFoundError('FILE_NOT_IN_VERSION', `the version has no file '${printable(only)}'`, { hint: 'paths are as `modelctl show <ref>` lists them' });
      models = models.filter((m) => m.file.path === only);
      if (models.length === 0) {
        throw new UsageError('NOT_A_MODEL_FILE', `'${printable(only)}' is not a safetensors, GGUF, ONNX or TF.js model file`, {
          hint: 'tensor tables are read from .safetensors, .gguf and .onnx files and TF.js model.json manifests',
        });
      }
    }
    return models.map((m) => {
      let header: TensorHeader;
      try {
        header = reader.header(m);
      } catch (err) {
        if (only !== undefined) throw err;
        return { path: m.file.path, format: m.format, summary: null, inputs: [], outputs: [], tensors: [], error: fileErrorOf(err) };
      }
      return { path: m.file.path, format: m.format, summary: summarizeHeader(header), inputs: header.inputs, outputs: header.outputs, tensors: header.tensors.map(tensorRow), error: null };
    });
  } finally {
    reader.close();
  }
}
