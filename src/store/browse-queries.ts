import type { Database } from './index-db.js';
import { VERSION_COLUMNS, toVersionRow, type RawVersion, type VersionRow } from './version-records.js';

/**
 * The queries behind browsing a registry page by page (the HTTP API and web UI of
 * `modelctl serve`, docs/design.md §12): sorted, filtered pages of versions, metric series,
 * the stage timeline and the event feed. Every one is read-only.
 */

/** What a versions page is sorted by: a version column or a numeric metric. */
export type VersionSortKey = { kind: 'number' } | { kind: 'created' } | { kind: 'size' } | { kind: 'metric'; key: string };

/** Filters and paging of listVersionPage. */
export interface VersionPageQuery {
  modelId: number;
  sort: VersionSortKey;
  descending: boolean;
  /** Only versions carrying this tag. */
  tag?: string;
  /** Only the version holding this stage now. */
  stage?: string;
  limit: number;
  offset: number;
}

/**
 * One page of a model's version ids in the requested order, and how many versions match
 * in all. Sorted by a metric, versions without a numeric value for it come last in both
 * directions; ties are broken by number, newest first, so pages never overlap.
 */
export function listVersionPage(db: Database, q: VersionPageQuery): { ids: string[]; total: number } {
  const where = ['v.model_id = @modelId'];
  const params: Record<string, unknown> = { modelId: q.modelId };
  if (q.tag !== undefined) {
    where.push('EXISTS (SELECT 1 FROM tags t WHERE t.model_id = v.model_id AND t.name = @tag AND t.version_id = v.id)');
    params.tag = q.tag;
  }
  if (q.stage !== undefined) {
    where.push('EXISTS (SELECT 1 FROM stages s WHERE s.model_id = v.model_id AND s.stage = @stage AND s.version_id = v.id)');
    params.stage = q.stage;
  }
  const filter = where.join(' AND ');
  const dir = q.descending ? 'DESC' : 'ASC';
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM versions v WHERE ${filter}`).get(params) as { n: number }).n;
  const page = (sql: string, extra: Record<string, unknown>) => (db.prepare(sql).all({ ...params, ...extra }) as { id: string }[]).map((r) => r.id);
  if (q.sort.kind !== 'metric') {
    const order = q.sort.kind === 'number' ? `v.number ${dir}` : q.sort.kind === 'created' ? `v.created_at ${dir}, v.number ${dir}` : `v.total_size ${dir}, v.number DESC`;
    return { ids: page(`SELECT v.id FROM versions v WHERE ${filter} ORDER BY ${order} LIMIT @limit OFFSET @offset`, { limit: q.limit, offset: q.offset }), total };
  }
  // Versions with the metric, walked in the order of the (key, value_num) index: a page costs
  // about offset + limit rows, not a sort of every version (CROSS JOIN keeps metrics outermost).
  const metric = { metric: q.sort.key };
  const ids = page(
    `SELECT v.id FROM metrics mt CROSS JOIN versions v ON v.id = mt.version_id
     WHERE mt.key = @metric AND mt.value_num IS NOT NULL AND ${filter}
     ORDER BY mt.value_num ${dir}, v.number DESC LIMIT @limit OFFSET @offset`,
    { ...metric, limit: q.limit, offset: q.offset },
  );
  if (ids.length === q.limit) return { ids, total };
  // Then the versions without it, newest first, continuing where those with it ended.
  const withMetric =
    ids.length > 0
      ? q.offset + ids.length
      : (db.prepare(`SELECT COUNT(*) AS n FROM metrics mt CROSS JOIN versions v ON v.id = mt.version_id WHERE mt.key = @metric AND mt.value_num IS NOT NULL AND ${filter}`).get({ ...params, ...metric }) as { n: number }).n;
  const rest = page(
    `SELECT v.id FROM versions v WHERE ${filter}
     AND NOT EXISTS (SELECT 1 FROM metrics mt WHERE mt.version_id = v.id AND mt.key = @metric AND mt.value_num IS NOT NULL)
     ORDER BY v.number DESC LIMIT @limit OFFSET @offset`,
    { ...metric, limit: q.limit - ids.length, offset: Math.max(0, q.offset - withMetric) },
  );
  return { ids: [...ids, ...rest], total };
}

/** Version rows of many ids at once (any order; absent ids are left out). */
export function versionRowsByIds(db: Database, ids: readonly string[]): Map<string, VersionRow> {
  const out = new Map<string, VersionRow>();
  if (ids.length === 0) return out;
  for (const r of db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id WHERE v.id IN (${ids.map(() => '?').join(',')})`).all(...ids) as RawVersion[]) {
    out.set(r.id, toVersionRow(r));
  }
  return out;
}

/** Tags of many versions at once: version id → tag names (sorted). */
export function tagsOfVersions(db: Database, versionIds: readonly string[]): Map<string, string[]> {
  return namesByVersion(db, 'SELECT version_id AS id, name FROM tags WHERE version_id IN (%) ORDER BY name', versionIds);
}

/** Stages held now by many versions at once: version id → stage names (sorted). */
export function stagesOfVersions(db: Database, versionIds: readonly string[]): Map<string, string[]> {
  return namesByVersion(db, 'SELECT version_id AS id, stage AS name FROM stages WHERE version_id IN (%) ORDER BY stage', versionIds);
}

function namesByVersion(db: Database, sql: string, versionIds: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(versionIds.map((id) => [id, []]));
  if (versionIds.length === 0) return out;
  for (const r of db.prepare(sql.replace('%', versionIds.map(() => '?').join(','))).all(...versionIds) as { id: string; name: string }[]) {
    out.get(r.id)?.push(r.name);
  }
  return out;
}

/** How many versions the model has. */
export function countModelVersions(db: Database, modelId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM versions WHERE model_id = ?').get(modelId) as { n: number }).n;
}

/** True when some version of the model has a numeric value for metric `key`. */
export function modelHasNumericMetric(db: Database, modelId: number, key: string): boolean {
  return !!db
    .prepare('SELECT 1 FROM metrics mt JOIN versions v ON v.id = mt.version_id WHERE mt.key = ? AND mt.value_num IS NOT NULL AND v.model_id = ? LIMIT 1')
    .get(key, modelId);
}

/** The numeric metric names recorded on any version of the model, sorted. */
export function numericMetricKeys(db: Database, modelId: number): string[] {
  return (
    db
      .prepare('SELECT DISTINCT mt.key FROM metrics mt JOIN versions v ON v.id = mt.version_id WHERE v.model_id = ? AND mt.value_num IS NOT NULL ORDER BY mt.key')
      .all(modelId) as { key: string }[]
  ).map((r) => r.key);
}

/** Numeric metrics of many versions at once: version id → metric name → value. */
export function numericMetricsOf(db: Database, versionIds: readonly string[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>(versionIds.map((id) => [id, {}]));
  if (versionIds.length === 0) return out;
  const rows = db
    .prepare(`SELECT version_id AS id, key, value_num AS n FROM metrics WHERE version_id IN (${versionIds.map(() => '?').join(',')}) AND value_num IS NOT NULL ORDER BY key`)
    .all(...versionIds) as { id: string; key: string; n: number }[];
  for (const r of rows) (out.get(r.id) as Record<string, number>)[r.key] = r.n;
  return out;
}

/** One point of a metric across a model's versions. */
export interface MetricPoint {
  number: number;
  id: string;
  createdAt: string;
  value: number;
}

/** Metric `key` of every version of the model that has a numeric value for it, by number. */
export function metricSeries(db: Database, modelId: number, key: string): MetricPoint[] {
  return db
    .prepare(
      `SELECT v.number, v.id, v.created_at AS createdAt, mt.value_num AS value FROM versions v JOIN metrics mt ON mt.version_id = v.id AND mt.key = ?
       WHERE v.model_id = ? AND mt.value_num IS NOT NULL ORDER BY v.number`,
    )
    .all(key, modelId) as MetricPoint[];
}

/** One stage move with what its audit event says (who, why, which action). */
export interface StageTimelineRow {
  seq: number;
  stage: string;
  versionId: string | null;
  previousVersionId: string | null;
  eventId: string | null;
  at: string;
  /** 'promote' or 'rollback'; null when the event is not in this index. */
  action: string | null;
  actor: string | null;
  /** The event's canonical JSON (reason, data), or null. */
  payload: string | null;
}

/** Every stage move of a model (all stages), oldest first. */
export function stageTimeline(db: Database, modelId: number): StageTimelineRow[] {
  return db
    .prepare(
      `SELECT h.seq, h.stage, h.version_id AS versionId, h.previous_version_id AS previousVersionId, h.event_id AS eventId, h.at,
              e.action, e.actor, e.payload
       FROM stage_history h LEFT JOIN events e ON e.id = h.event_id WHERE h.model_id = ? ORDER BY h.seq`,
    )
    .all(modelId) as StageTimelineRow[];
}

/** The newest event's time per model (models without events are absent). */
export function lastEventTimes(db: Database): Map<string, string> {
  const rows = db.prepare('SELECT model, MAX(at) AS at FROM events WHERE model IS NOT NULL GROUP BY model').all() as { model: string; at: string }[];
  return new Map(rows.map((r) => [r.model, r.at]));
}

/** The seq of the newest local event (0 before the first). */
export function newestEventSeq(db: Database): number {
  return (db.prepare('SELECT MAX(seq) AS s FROM events').get() as { s: number | null }).s ?? 0;
}

/** Events after `seq` in chain order, at most `limit`, as stored (canonical JSON payloads). */
export function eventsAfterSeq(db: Database, seq: number, limit: number): { seq: number; payload: string }[] {
  return db.prepare('SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit) as { seq: number; payload: string }[];
}
