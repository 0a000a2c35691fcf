import type { AuditEvent } from '../core/events.js';
import type { Lineage, ManifestFile } from '../core/manifest.js';
import { totalsOf, versionTensorSummaries, type TensorSummaryRow, type TensorTotals } from '../store/tensor-summaries.js';
import { readVersionManifest } from './read-manifest.js';
import type { TensorFileView } from './tensor-tables.js';
import { eventsOfVersion } from '../store/history-queries.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import type { SignatureCheck } from '../signing/version-signatures.js';
import { signaturesOfVersion } from '../store/signatures-table.js';
import { resolveIn } from '../workspace/resolve-in.js';

/** What describeVersion reads besides the index: the tensor tables need the files' bytes. */
export interface VersionDetailOptions {
  /** Also read the tensor tables of the version's model files (docs/design.md §15). */
  tensors?: boolean;
  /** With `tensors`: only this file (its path in the version). */
  file?: string;
}

export interface ShowResult {
  version: VersionSummary;
  files: ManifestFile[];
  lineage: Lineage;
  /** Events about this version, oldest first. */
  events: AuditEvent[];
  /** Who signed or attested it, each checked against trust.keys and the files (docs/design.md §11). */
  signatures: SignatureCheck[];
  /** Parameters, tensors and dtypes of its model files, from the index; null when it holds none. */
  parameters: TensorTotals | null;
  /** Per model file, from the index: format, counts, dtypes, hints, or why its header could not be read. */
  modelFiles: TensorSummaryRow[];
  /**
   * Files whose bytes are not in the local store (a version fetched, not pulled): their
   * headers were never read, so `parameters` says nothing about them. Counted only when no
   * model file was read (0 otherwise).
   */
  filesNotHere: number;
  /** With `tensors`: each model file's tensor table, read from the local objects' headers. */
  tensors?: TensorFileView[];
}

/**
 * One version in full, from an open repository (the engine of show and card): files,
 * lineage (params, metrics, data, code, parent, environment), tags, stages, events, and its
 * model files' parameter summary; with `tensors`, their tensor tables. Unknown ref → NotFoundError (3).
 */
export async function describeVersion(repo: Repository, ref: string, opts: VersionDetailOptions = {}): Promise<ShowResult> {
  // The header readers (and the validator they parse TF.js manifests with) only for --tensors.
  const { readTensorTables } = opts.tensors || opts.file !== undefined ? await import('./tensor-tables.js') : { readTensorTables: null };
  const v = resolveIn(repo, ref);
  const manifest = readVersionManifest(repo, v.id);
  const events = eventsOfVersion(repo.db, v.id);
  const modelFiles = versionTensorSummaries(repo.db, v.id);
  // Checking a stored bundle parses it as untrusted input (zod schemas): loaded only for a
  // version that has one, so show of an unsigned version starts without the validator.
  const signatures = signaturesOfVersion(repo.db, v.id).length ? (await import('./version-signers.js')).describeVersionSignatures(repo, v.id, manifest.files) : [];
  return {
    version: summarizeVersion(repo.db, v),
    files: manifest.files,
    lineage: manifest.lineage,
    events,
    signatures,
    parameters: totalsOf(modelFiles),
    modelFiles,
    filesNotHere: modelFiles.length ? 0 : manifest.files.filter((f) => !repo.store.hasObject(f.digest)).length,
    ...(readTensorTables ? { tensors: readTensorTables(repo, manifest.files, opts.file) } : {}),
  };
}
