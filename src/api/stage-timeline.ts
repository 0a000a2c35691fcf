import type { AuditEvent } from '../core/events.js';
import { assertModelName } from '../core/names.js';
import { stageTimeline } from '../store/browse-queries.js';
import { requireModel } from '../store/resolve-ref.js';
import { getVersion } from '../store/version-records.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';

/** A version as a stage move names it. */
export interface MovedVersion {
  id: string;
  /** null when the version is not in this index. */
  number: number | null;
  ref: string | null;
}

/** One stage move: who moved which version where, when and why. */
export interface StageTimelineEntry {
  stage: string;
  at: string;
  /** 'promote' or 'rollback' (null when the move's event is not in this index). */
  action: string | null;
  rollback: boolean;
  actor: string | null;
  reason: string | null;
  /** The holder after the move (null: the stage was cleared). */
  version: MovedVersion | null;
  /** The holder before the move (null: the stage was empty). */
  previous: MovedVersion | null;
  event: string | null;
}

/** Every stage move of a model, oldest first. */
export interface StageTimeline {
  model: string;
  /** Configured stage order. */
  stageOrder: string[];
  moves: StageTimelineEntry[];
}

/** The stage timeline of a model on an open repository; unknown model → NotFoundError (3). */
export function stageTimelineOf(repo: Repository, model: string): StageTimeline {
  assertModelName(model);
  const { db } = repo;
  const modelId = requireModel(db, model);
  const moved = (id: string | null): MovedVersion | null => {
    if (!id) return null;
    const v = getVersion(db, id);
    return { id, number: v?.number ?? null, ref: v ? `${v.model}@v${v.number}` : null };
  };
  const moves = stageTimeline(db, modelId).map((r): StageTimelineEntry => {
    let event: Partial<AuditEvent> = {};
    try {
      if (r.payload) event = JSON.parse(r.payload) as Partial<AuditEvent>;
    } catch {
      event = {}; // a damaged row: the audit page's verification names it
    }
    return {
      stage: r.stage,
      at: r.at,
      action: r.action,
      rollback: r.action === 'rollback',
      actor: r.actor,
      reason: typeof event.reason === 'string' ? event.reason : null,
      version: moved(r.versionId),
      previous: moved(r.previousVersionId),
      event: r.eventId || null,
    };
  });
  return { model, stageOrder: repo.settings.stages, moves };
}

/** The stage timeline of a model (see stageTimelineOf). */
export async function stageTimelineOfModel(opts: CommonOptions & { model: string }): Promise<StageTimeline> {
  return withRepository(opts, (repo) => stageTimelineOf(repo, opts.model));
}
