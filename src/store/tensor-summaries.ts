import type { TensorFormat, TensorSummary } from '../formats/tensor-header.js';
import type { Database } from './index-db.js';

export type { TensorSummary };

/** One file's row: its summary, or the error that kept its header from being read. */
export interface TensorSummaryRow {
  path: string;
  digest: string;
  format: TensorFormat;
  summary: TensorSummary | null;
  error: { code: string; message: string } | null;
}

/** Totals of a version's summaries (what show, ls and card print as its parameter line). */
export interface TensorTotals {
  /** Files summarized (readable or not). */
  files: number;
  formats: TensorFormat[];
  tensorCount: number;
  parameterCount: number;
  tensorBytes: number;
  /** Parameters per dtype, largest first. */
  dtypes: { dtype: string; parameters: number }[];
  /** Model files whose header could not be read. */
  unreadable: number;
}

interface RawRow {
  path: string;
  digest: string;
  format: TensorFormat;
  tensor_count: number | null;
  parameter_count: number | null;
  tensor_bytes: number | null;
  dtypes_json: string | null;
  hints_json: string | null;
  error_code: string | null;
  error_message: string | null;
}

function toRow(r: RawRow): TensorSummaryRow {
  return {
    path: r.path,
    digest: r.digest,
    format: r.format,
    summary:
      r.error_code === null
        ? {
            format: r.format,
            tensorCount: r.tensor_count ?? 0,
            parameterCount: r.parameter_count ?? 0,
            tensorBytes: r.tensor_bytes ?? 0,
            dtypes: JSON.parse(r.dtypes_json ?? '{}') as Record<string, number>,
            hints: JSON.parse(r.hints_json ?? '{}') as Record<string, string | number>,
          }
        : null,
    error: r.error_code === null ? null : { code: r.error_code, message: r.error_message ?? '' },
  };
}

/** Records a version's summaries (inside a write transaction); rows already there are kept. */
export function insertTensorSummaries(db: Database, versionId: string, rows: readonly TensorSummaryRow[]): void {
  const ins = db.prepare(
    `INSERT OR IGNORE INTO tensor_summaries (version_id, path, digest, format, tensor_count, parameter_count, tensor_bytes, dtypes_json, hints_json, error_code, error_message)
     VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
  );
  for (const r of rows) {
    const s = r.summary;
    ins.run(versionId, r.path, r.digest, r.format, s?.tensorCount ?? null, s?.parameterCount ?? null, s?.tensorBytes ?? null,
      s ? JSON.stringify(s.dtypes) : null, s ? JSON.stringify(s.hints) : null, r.error?.code ?? null, r.error?.message ?? null);
  }
}

/** Drops a version's summaries (for whoever removes the version itself). */
export function deleteTensorSummaries(db: Database, versionId: string): void {
  db.prepare('DELETE FROM tensor_summaries WHERE version_id = ?').run(versionId);
}

/** A version's summaries, by path. */
export function versionTensorSummaries(db: Database, versionId: string): TensorSummaryRow[] {
  return (db.prepare('SELECT * FROM tensor_summaries WHERE version_id = ? ORDER BY path').all(versionId) as RawRow[]).map(toRow);
}

/** True when the index holds summaries for the version (so they need not be computed again). */
export function hasTensorSummaries(db: Database, versionId: string): boolean {
  return !!db.prepare('SELECT 1 FROM tensor_summaries WHERE version_id = ? LIMIT 1').get(versionId);
}

/** A readable summary already recorded for these bytes in this format (any version), or null. */
export function summaryOfDigest(db: Database, digest: string, format: TensorFormat): TensorSummary | null {
  const r = db.prepare('SELECT * FROM tensor_summaries WHERE digest = ? AND format = ? AND error_code IS NULL LIMIT 1').get(digest, format) as RawRow | undefined;
  return r ? toRow(r).summary : null;
}

/** The totals of a version's summaries, or null when it has none. */
export function versionTensorTotals(db: Database, versionId: string): TensorTotals | null {
  return totalsOf(versionTensorSummaries(db, versionId));
}

/** Adds up summary rows (null for none). */
export function totalsOf(rows: readonly TensorSummaryRow[]): TensorTotals | null {
  if (rows.length === 0) return null;
  const dtypes = new Map<string, number>();
  const formats = new Set<TensorFormat>();
  const t: TensorTotals = { files: rows.length, formats: [], tensorCount: 0, parameterCount: 0, tensorBytes: 0, dtypes: [], unreadable: 0 };
  for (const r of rows) {
    formats.add(r.format);
    if (!r.summary) {
      t.unreadable++;
      continue;
    }
    t.tensorCount += r.summary.tensorCount;
    t.parameterCount += r.summary.parameterCount;
    t.tensorBytes += r.summary.tensorBytes;
    for (const [d, n] of Object.entries(r.summary.dtypes) as [string, number][]) dtypes.set(d, (dtypes.get(d) ?? 0) + n);
  }
  t.formats = [...formats].sort();
  t.dtypes = [...dtypes].map(([dtype, parameters]) => ({ dtype, parameters })).sort((a, b) => b.parameters - a.parameters || (a.dtype < b.dtype ? -1 : 1));
  return t;
}
