import { diffFiles, diffMetrics, diffValues, type FilesDiff, type MetricsDiff, type ValuesDiff } from '../core/version-diff.js';
import { versionDataInputs, versionKeyValues } from '../store/lineage-queries.js';
import { versionFiles } from '../store/version-records.js';
import { readVersionManifest } from './read-manifest.js';
import { withRepository, type CommonOptions } from './repository.js';
import type { TensorDiff } from './tensor-diff.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface DiffOptions extends CommonOptions {
  /** The "before" version (docs/design.md §2 reference). */
  refA: string;
  /** The "after" version. */
  refB: string;
  /** Also compare the model files tensor by tensor (docs/design.md §15). */
  tensors?: boolean;
}

/** A data input as diff compares it. */
export interface DiffDataInput {
  kind: string;
  source: string;
  digest: string | null;
  size: number | null;
}

/** What differs between two versions (any two, of any models). The --json shape. */
export interface DiffResult {
  a: VersionSummary;
  b: VersionSummary;
  /** True when files, params, metrics and lineage are all equal. */
  identical: boolean;
  files: FilesDiff;
  params: ValuesDiff;
  metrics: MetricsDiff;
  lineage: {
    code: { before: string | null; after: string | null; changed: boolean };
    parent: { before: string | null; after: string | null; changed: boolean };
    data: { added: DiffDataInput[]; removed: DiffDataInput[] };
  };
  /** With `tensors`: tensors added, removed, reshaped and changed per model file. */
  tensors?: TensorDiff;
}

/**
 * Compares two versions from the index: files (sizes), params, metrics (deltas), lineage; with
 * `tensors`, their model files tensor by tensor, reading only headers and changed chunks.
 */
export async function diff(opts: DiffOptions): Promise<DiffResult> {
  // The header readers (and the validator they parse TF.js manifests with) only for --tensors, as in show.
  const { diffTensors } = opts.tensors ? await import('./tensor-diff.js') : { diffTensors: null };
  return withRepository(opts, (repo) => {
    const { db } = repo;
    const a = resolveIn(repo, opts.refA);
    const b = resolveIn(repo, opts.refB);
    const files = diffFiles(versionFiles(db, a.id), versionFiles(db, b.id));
    const params = diffValues(versionKeyValues(db, 'params', a.id), versionKeyValues(db, 'params', b.id));
    const metrics = diffMetrics(versionKeyValues(db, 'metrics', a.id), versionKeyValues(db, 'metrics', b.id));
    const dataA = versionDataInputs(db, a.id);
    const dataB = versionDataInputs(db, b.id);
    const key = (d: DiffDataInput) => `${d.kind}\0${d.source}\0${d.digest ?? ''}`;
    const keysA = new Set(dataA.map(key));
    const keysB = new Set(dataB.map(key));
    const lineage = {
      code: { before: a.gitCommit, after: b.gitCommit, changed: a.gitCommit !== b.gitCommit || a.gitDirty !== b.gitDirty },
      parent: { before: a.parentId, after: b.parentId, changed: a.parentId !== b.parentId },
      data: { added: dataB.filter((d) => !keysA.has(key(d))), removed: dataA.filter((d) => !keysB.has(key(d))) },
    };
    const identical =
      files.added.length + files.removed.length + files.changed.length === 0 &&
      params.added.length + params.removed.length + params.changed.length === 0 &&
      metrics.added.length + metrics.removed.length + metrics.changed.length === 0 &&
      !lineage.code.changed &&
      !lineage.parent.changed &&
      lineage.data.added.length + lineage.data.removed.length === 0;
    const tensors = diffTensors ? diffTensors(repo, readVersionManifest(repo, a.id).files, readVersionManifest(repo, b.id).files) : undefined;
    return { a: summarizeVersion(db, a), b: summarizeVersion(db, b), identical, files, params, metrics, lineage, ...(tensors ? { tensors } : {}) };
  });
}
