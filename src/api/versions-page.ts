import { UsageError } from '../errors.js';
import { closest } from '../core/refs.js';
import { assertModelName, assertStageName } from '../core/names.js';
import {
  listVersionPage,
  modelHasNumericMetric,
  numericMetricKeys,
  numericMetricsOf,
  stagesOfVersions,
  tagsOfVersions,
  versionRowsByIds,
  type VersionSortKey,
} from '../store/browse-queries.js';
import { requireModel } from '../store/resolve-ref.js';
import type { VersionRow } from '../store/version-records.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import { summaryOf, type VersionSummary } from './views.js';

/** Largest page a caller may ask for. */
export const MAX_PAGE_SIZE = 500;

export interface VersionsPageOptions {
  model: string;
  /**
   * `number` (default), `createdAt`, `totalSize` or a numeric metric's name; a leading `-`
   * sorts descending. Default `-number` (newest first).
   */
  sort?: string;
  /** Only versions with this tag. */
  tag?: string;
  /** Only the version holding this stage now. */
  stage?: string;
  /** Page size, 1 … MAX_PAGE_SIZE (default 50). */
  limit?: number;
  /** Versions to skip (default 0). */
  offset?: number;
}

/** A version in a page: its summary and its numeric metrics. */
export interface VersionsPageEntry extends VersionSummary {
  metrics: Record<string, number>;
}

/** One page of a model's versions. */
export interface VersionsPageResult {
  model: string;
  /** The sort applied, normalised (`-number`, `accuracy`, …). */
  sort: string;
  limit: number;
  offset: number;
  /** Versions matching the filters in all. */
  total: number;
  versions: VersionsPageEntry[];
}

const COLUMN_SORTS: Record<string, VersionSortKey> = {
  number: { kind: 'number' },
  createdAt: { kind: 'created' },
  totalSize: { kind: 'size' },
};

/**
 * One page of a model's versions on an open repository, filtered by tag or stage and sorted
 * by a column or any numeric metric. A sort by a metric no version of the model has is a
 * UsageError (2) naming the closest metric names; a bad limit or offset too.
 */
export function versionsPageOf(repo: Repository, opts: VersionsPageOptions): VersionsPageResult {
  assertModelName(opts.model);
  const limit = opts.limit ?? 50;
  const offset = opts.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new UsageError('INVALID_LIMIT', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${String(opts.limit)}`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) throw new UsageError('INVALID_OFFSET', `offset must be a whole number ≥ 0, got ${String(opts.offset)}`);
  if (opts.stage !== undefined) assertStageName(opts.stage);
  const { db } = repo;
  const modelId = requireModel(db, opts.model);
  const raw = opts.sort ?? '-number';
  const descending = raw.startsWith('-');
  const name = raw.replace(/^[-+]/, '');
  let sort = COLUMN_SORTS[name];
  if (!sort) {
    if (!name || !modelHasNumericMetric(db, modelId, name)) {
      const known = numericMetricKeys(db, modelId);
      const near = closest(name, [...known, ...Object.keys(COLUMN_SORTS)]);
      throw new UsageError('INVALID_SORT', `cannot sort ${opts.model} by '${name}': no version has a numeric metric of that name`, {
        hint: `sort by ${[...Object.keys(COLUMN_SORTS), ...known].join(', ')} (prefix - for descending)`,
        data: { candidates: near, metrics: known },
      });
    }
    sort = { kind: 'metric', key: name };
  }
  const page = listVersionPage(db, { modelId, sort, descending, tag: opts.tag, stage: opts.stage, limit, offset });
  // One query each for the rows, tags, stages and metrics of the whole page.
  const rows = versionRowsByIds(db, page.ids);
  const tags = tagsOfVersions(db, page.ids);
  const stages = stagesOfVersions(db, page.ids);
  const metrics = numericMetricsOf(db, page.ids);
  const versions = page.ids.map((id) => ({ ...summaryOf(rows.get(id) as VersionRow, tags.get(id) ?? [], stages.get(id) ?? []), metrics: metrics.get(id) ?? {} }));
  return { model: opts.model, sort: `${descending ? '-' : ''}${name}`, limit, offset, total: page.total, versions };
}

/** One page of a model's versions (see versionsPageOf). */
export async function versionsPage(opts: VersionsPageOptions & CommonOptions): Promise<VersionsPageResult> {
  return withRepository(opts, (repo) => versionsPageOf(repo, opts));
}
