import { assertModelName } from '../core/names.js';
import { countModelVersions, lastEventTimes, metricSeries, numericMetricKeys, type MetricPoint } from '../store/browse-queries.js';
import { requireModel } from '../store/resolve-ref.js';
import { listStageHolders } from '../store/stages-table.js';
import { getVersion, latestVersion, listModelNames } from '../store/version-records.js';
import { getEventRecord } from '../store/history-queries.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';

/** Who holds a stage now, since when and by whose move. */
export interface StageHolding {
  stage: string;
  version: VersionSummary | null;
  /** When the stage last moved. */
  since: string;
  /** Who moved it (null when the move's event is not in this index). */
  actor: string | null;
  /** The action of that move: 'promote' or 'rollback' (null when unknown). */
  action: string | null;
  reason: string | null;
}

/** A model at a glance: its latest version, stage holders, metric names and last change. */
export interface ModelOverview {
  name: string;
  /** Number of versions. */
  versions: number;
  latest: VersionSummary | null;
  /** Holders in the configured stage order, then any other stage with a holder. */
  stages: StageHolding[];
  /** Names of the numeric metrics any version records (what the versions can be sorted by). */
  metrics: string[];
  /** Time of the newest event about the model (null when none). */
  lastChange: string | null;
}

/** Every model at a glance, by name. */
export interface ModelsOverview {
  models: ModelOverview[];
  /** Configured stage order. */
  stageOrder: string[];
}

/** The overview of one model on an open repository; unknown model → NotFoundError (3). */
export function modelOverviewOf(repo: Repository, model: string, lastChange?: string | null): ModelOverview {
  assertModelName(model);
  const { db } = repo;
  const modelId = requireModel(db, model);
  const latest = latestVersion(db, model);
  const holders = listStageHolders(db, modelId);
  const order = repo.settings.stages;
  holders.sort((a, b) => rank(order, a.stage) - rank(order, b.stage) || a.stage.localeCompare(b.stage));
  const stages = holders.map((h): StageHolding => {
    const row = getVersion(db, h.versionId);
    const event = h.eventId ? getEventRecord(db, h.eventId) : null;
    return {
      stage: h.stage,
      version: row ? summarizeVersion(db, row) : null,
      since: h.updatedAt,
      actor: event?.actor ?? null,
      action: event?.action ?? null,
      reason: event?.reason ?? null,
    };
  });
  return {
    name: model,
    versions: countModelVersions(db, modelId),
    latest: latest ? summarizeVersion(db, latest) : null,
    stages,
    metrics: numericMetricKeys(db, modelId),
    lastChange: lastChange !== undefined ? lastChange : (lastEventTimes(db).get(model) ?? null),
  };
}

/** Every model's overview on an open repository. */
export function modelsOverviewOf(repo: Repository): ModelsOverview {
  const last = lastEventTimes(repo.db);
  return { models: listModelNames(repo.db).map((m) => modelOverviewOf(repo, m, last.get(m) ?? null)), stageOrder: repo.settings.stages };
}

/** Every model at a glance (see modelsOverviewOf). */
export async function modelsOverview(opts: CommonOptions = {}): Promise<ModelsOverview> {
  return withRepository(opts, (repo) => modelsOverviewOf(repo));
}

/** A numeric metric across a model's versions, oldest number first. */
export interface MetricSeries {
  model: string;
  metric: string;
  points: MetricPoint[];
}

/** Metric `metric` of every version of `model` that records it as a number. */
export function metricSeriesOf(repo: Repository, model: string, metric: string): MetricSeries {
  assertModelName(model);
  const modelId = requireModel(repo.db, model);
  return { model, metric, points: metricSeries(repo.db, modelId, metric) };
}

function rank(order: readonly string[], stage: string): number {
  const i = order.indexOf(stage);
  return i === -1 ? order.length : i;
}
