import { requireModel } from '../store/resolve-ref.js';
import { listVersions } from '../store/version-records.js';
import { assertModelName } from '../core/names.js';
import { numericMetrics } from '../store/lineage-queries.js';
import { withReadRepository, type ReadTarget } from './remote-read.js';
import { summarizeVersion, type VersionSummary } from './views.js';

export interface LogOptions extends ReadTarget {
  model: string;
  /** At most this many versions (default: all). */
  limit?: number;
}

export interface LogEntry extends VersionSummary {
  /** Numeric metrics, for the headline columns. */
  metrics: Record<string, number>;
}

export interface LogResult {
  model: string;
  versions: LogEntry[];
}

/** Versions of a model, newest first, with tags, stages and numeric metrics; with `remote`, the remote's. */
export async function log(opts: LogOptions): Promise<LogResult> {
  assertModelName(opts.model);
  return withReadRepository(opts, opts.model, (repo) => {
    requireModel(repo.db, opts.model);
    const rows = listVersions(repo.db, opts.model, opts.limit ?? -1);
    return { model: opts.model, versions: rows.map((v) => ({ ...summarizeVersion(repo.db, v), metrics: numericMetrics(repo.db, v.id) })) };
  });
}
