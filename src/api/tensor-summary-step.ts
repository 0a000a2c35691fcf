import { summarizeHeader } from '../formats/read-header.js';
import { writeTransaction } from '../store/index-db.js';
import { hasTensorSummaries, insertTensorSummaries, summaryOfDigest, type TensorSummaryRow } from '../store/tensor-summaries.js';
import { fileErrorOf, VersionTensorReader, type TensorStoreAccess, type VersionFile } from './tensor-files.js';

/**
 * The tensor summaries of a version's model files (docs/design.md §15), for the index: headers
 * only, read from the store's objects. Files that are not a known format are skipped by name
 * without being opened; a file whose bytes were summarized before (same digest and format) is
 * not read again, except TF.js manifests, whose summary depends on their shards. A header that
 * cannot be read gives a row with its error, and the caller goes on.
 */
export function summarizeTensorFiles(repo: TensorStoreAccess, files: readonly VersionFile[]): TensorSummaryRow[] {
  const reader = new VersionTensorReader(repo, files);
  try {
    return reader.modelFiles().map((m): TensorSummaryRow => {
      const base = { path: m.file.path, digest: m.file.digest, format: m.format };
      const known = m.format === 'tfjs' ? null : summaryOfDigest(repo.db, m.file.digest, m.format);
      if (known) return { ...base, summary: known, error: null };
      try {
        return { ...base, summary: summarizeHeader(reader.header(m)), error: null };
      } catch (err) {
        const e = fileErrorOf(err);
        return { ...base, summary: null, error: { code: e.code, message: e.message } };
      }
    });
  } finally {
    reader.close();
  }
}

/**
 * Records the summaries of a version that has none yet, once all its objects are local (after
 * pull or import brought them), in one transaction. Cheap when it holds no model files.
 */
export function ensureTensorSummaries(repo: TensorStoreAccess, versionId: string, files: readonly VersionFile[]): void {
  if (hasTensorSummaries(repo.db, versionId) || !files.every((f) => repo.store.hasObject(f.digest))) return;
  const rows = summarizeTensorFiles(repo, files);
  if (rows.length) writeTransaction(repo.db, () => insertTensorSummaries(repo.db, versionId, rows));
}
