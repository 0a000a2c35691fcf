import { posix } from 'node:path';
import { ModelctlError, NotFoundError } from '../errors.js';
import { printable } from '../core/names.js';
import { bufferSource, type ByteSource } from '../formats/byte-source.js';
import { formatByName, looksLikeTfjs, readTensorHeader } from '../formats/read-header.js';
import { TENSOR_LIMITS, type SiblingFile, type TensorFormat, type TensorHeader } from '../formats/tensor-header.js';
import type { Database } from '../store/index-db.js';
import { openObjectSource, type ObjectSource } from '../store/object-source.js';
import type { ObjectStore } from '../store/objects.js';

/** Bytes read at each end of a large JSON file to tell whether it is a TF.js manifest. */
const JSON_PROBE = 64 * 1024;

/** What the tensor engines need of a repository (an open Repository, or rebuild-index's store and index). */
export interface TensorStoreAccess {
  store: ObjectStore;
  db: Database;
}

/** A file of a version as the tensor engines see it. */
export interface VersionFile {
  path: string;
  size: number;
  digest: string;
}

/** A model file of a version and the format its name (and, for JSON, its content) says. */
export interface ModelFile {
  file: VersionFile;
  format: TensorFormat;
}

/** An error as a per-file report carries it. */
export interface FileError {
  code: string;
  message: string;
  hint: string | null;
}

/**
 * Reads the model-file headers of one version from the local store: objects are opened
 * once each, read by position (headers only), and every byte read is counted (`bytesRead`).
 * Close it when done.
 */
export class VersionTensorReader {
  bytesRead = 0;
  private readonly sources = new Map<string, ObjectSource>();
  private readonly byPath: Map<string, VersionFile>;
  private readonly jsonBytes = new Map<string, Uint8Array | null>();

  constructor(
    private readonly repo: TensorStoreAccess,
    readonly files: readonly VersionFile[],
  ) {
    this.byPath = new Map(files.map((f) => [f.path, f]));
  }

  /** The version's file at `path`, or undefined. */
  file(path: string): VersionFile | undefined {
    return this.byPath.get(path);
  }

  /**
   * The version's model files: by name (.safetensors, .gguf, .onnx), and .json files whose
   * content is a TF.js manifest (those are read, up to the header limit, to tell). A JSON
   * file whose object is not in the store is left out: nothing can be said of it.
   */
  modelFiles(): ModelFile[] {
    const out: ModelFile[] = [];
    for (const f of this.files) {
      const format = formatByName(f.path);
      if (!format) continue;
      if (format === 'tfjs' && !this.isTfjs(f)) continue;
      out.push({ file: f, format });
    }
    return out;
  }

  /** The header of a model file; malformed → TENSOR_HEADER_INVALID (6), object absent → OBJECT_NOT_LOCAL (3). */
  header(m: ModelFile): TensorHeader {
    const src = m.format === 'tfjs' ? this.jsonSource(m.file) : this.source(m.file);
    return readTensorHeader(m.format, src, { path: m.file.path, sibling: (rel) => this.sibling(m.file.path, rel) });
  }

  /** Positional reads over a file's object (opened once, counted). */
  source(f: VersionFile): ByteSource {
    let s = this.sources.get(f.digest);
    if (!s) {
      if (!this.repo.store.hasObject(f.digest)) {
        throw new NotFoundError('OBJECT_NOT_LOCAL', `the bytes of '${printable(f.path)}' are not in the local store`, {
          hint: 'download them first: modelctl pull <ref> (tensor tables are read from local objects)',
        });
      }
      s = openObjectSource(this.repo.store, f.digest, f.size, (n) => (this.bytesRead += n));
      this.sources.set(f.digest, s);
    }
    return s;
  }

  /** Closes every object opened. */
  close(): void {
    for (const s of this.sources.values()) s.close();
    this.sources.clear();
  }

  /**
   * Whether a JSON file is a TF.js manifest, reading little of a large one: converters write
   * the weights manifest last (after the topology), so a large JSON file (a tokenizer, a
   * config) whose last 64 KiB hold no `"dtype"` and that starts with no manifest list costs
   * two small reads; the others are read whole and checked.
   */
  private isTfjs(f: VersionFile): boolean {
    const named = /(^|\/)model\.json$/i.test(f.path);
    if (!named && f.size > 2 * JSON_PROBE && this.repo.store.hasObject(f.digest)) {
      const src = this.source(f);
      const head = Buffer.from(src.read(0, JSON_PROBE));
      const tail = Buffer.from(src.read(f.size - JSON_PROBE, JSON_PROBE));
      const list = head.toString('latin1').trimStart().startsWith('[') && head.includes('"paths"');
      if (!list && !tail.includes('"dtype"') && !tail.includes('"weightsManifest"')) return false;
    }
    const bytes = this.jsonContent(f);
    return bytes !== null && looksLikeTfjs(bytes);
  }

  private jsonContent(f: VersionFile): Uint8Array | null {
    if (this.jsonBytes.has(f.path)) return this.jsonBytes.get(f.path) ?? null;
    let bytes: Uint8Array | null = null;
    if (f.size <= TENSOR_LIMITS.headerBytes && this.repo.store.hasObject(f.digest)) bytes = this.source(f).read(0, f.size);
    this.jsonBytes.set(f.path, bytes);
    return bytes;
  }

  private jsonSource(f: VersionFile): ByteSource {
    const bytes = this.jsonContent(f);
    // Too large to be a manifest, or absent: the reader reports which.
    return bytes ? bufferSource(bytes) : this.source(f);
  }

  /** A file named relative to `from`'s folder, if the version has it (never outside the version). */
  private sibling(from: string, rel: string): SiblingFile | null {
    for (const candidate of [rel, safeDecode(rel)]) {
      if (candidate === null || candidate.startsWith('/') || candidate.includes('\\')) continue;
      const joined = posix.normalize(posix.join(posix.dirname(from), candidate));
      if (joined.startsWith('../') || joined === '..') continue;
      const f = this.byPath.get(joined);
      if (f) return { path: f.path, size: f.size };
    }
    return null;
  }
}

function safeDecode(s: string): string | null {
  try {
    const d = decodeURIComponent(s);
    return d === s ? null : d;
  } catch {
    return null;
  }
}

/** A per-file error from whatever a reader threw (a reader's own bug is reported, never swallowed silently). */
export function fileErrorOf(err: unknown): FileError {
  if (err instanceof ModelctlError) return { code: err.code, message: err.message, hint: err.hint ?? null };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'TENSOR_READ_FAILED', message: `reading the header failed unexpectedly: ${message}`, hint: 'this is a bug in modelctl; please report it with the file' };
}
