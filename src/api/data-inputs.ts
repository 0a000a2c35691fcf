import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { canonicalJsonBytes } from '../core/canonical-json.js';
import type { DataInput } from '../core/manifest.js';
import { printable } from '../core/names.js';
import { toPosixPath } from '../core/paths.js';
import { redactUrl } from '../core/redact.js';
import { NotFoundError, fsError } from '../errors.js';
import { selectFiles } from '../workspace/file-selection.js';
import { hashWorkingFiles } from './file-hashing.js';
import type { Repository } from './repository.js';

const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

/**
 * Describes each `--data` input for the lineage. Files are hashed with the model-file
 * chunker (not stored); a folder's digest is sha256 of the canonical JSON list of its
 * files' [path, size, digest]; URIs are recorded as given, credentials stripped.
 */
export async function describeDataInputs(repo: Repository, inputs: readonly string[]): Promise<DataInput[]> {
  const out: DataInput[] = [];
  for (const input of inputs) {
    const abs = dataInputPath(repo, input);
    if (abs === null) {
      out.push({ kind: 'uri', source: redactUrl(input) });
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch (err) {
      const e = fsError(err, input);
      if (e.code === 'FILE_NOT_FOUND') throw new NotFoundError('DATA_NOT_FOUND', `data input '${printable(input)}' does not exist`, { hint: 'check the --data path' });
      throw e;
    }
    const shown = displayPath(repo.root, abs);
    if (!isDir) {
      const [h] = hashWorkingFiles(repo, [{ abs, rel: shown }], { store: false });
      out.push({ kind: 'file', source: shown, digest: h.digest, size: h.size });
      continue;
    }
    const files = await selectFilesAnywhere(abs);
    const hashed = hashWorkingFiles(repo, files, { store: false });
    out.push({
      kind: 'dir',
      source: shown,
      digest: folderDigest(hashed),
      size: hashed.reduce((s, h) => s + h.size, 0),
      files: hashed.length,
    });
  }
  return out;
}

/** Where each input given as a path (or file:// URL) is, relative to `repo.cwd`; URIs are left out. */
export function dataInputPaths(repo: Pick<Repository, 'cwd'>, inputs: readonly string[]): string[] {
  return inputs.map((i) => dataInputPath(repo, i)).filter((p): p is string => p !== null);
}

function dataInputPath(repo: Pick<Repository, 'cwd'>, input: string): string | null {
  if (URI.test(input) && !input.startsWith('file://')) return null;
  return resolve(repo.cwd, input.startsWith('file://') ? new URL(input).pathname : input);
}

/** The digest of a data folder: sha256 of the canonical JSON list of its files' [path, size, digest], in path order. */
export function folderDigest(files: readonly { rel: string; size: number; digest: string }[]): string {
  return createHash('sha256').update(canonicalJsonBytes(files.map((h) => [h.rel, h.size, h.digest]))).digest('hex');
}

/** Repository-relative when inside the repository, absolute otherwise. */
function displayPath(root: string, abs: string): string {
  const rel = toPosixPath(relative(root, abs));
  return rel && !rel.startsWith('../') && rel !== '..' ? rel : toPosixPath(abs);
}

/** Every file under a data folder, relative to it (data folders may live outside the repository). */
export async function selectFilesAnywhere(dir: string) {
  // Data folders may live outside the repository: select relative to the folder itself.
  return (await selectFiles(dir, dir, ['.'])).map((f) => ({ abs: f.abs, rel: f.rel }));
}
