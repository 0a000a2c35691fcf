import type { StageMove } from '../core/stage-moves.js';
import type { Database } from './index-db.js';

/** The version holding a stage of a model now. */
export interface StageHolder {
  stage: string;
  versionId: string;
  /** The holder before the last move (null when the stage was empty). */
  previousVersionId: string | null;
  /** The audit event of the last move. */
  eventId: string | null;
  updatedAt: string;
}

/** One recorded stage move, oldest first (stage_history). */
export interface StageHistoryRow extends StageMove {
  seq: number;
  stage: string;
  previousVersionId: string | null;
  eventId: string | null;
  at: string;
}

const HOLDER_COLUMNS = 'stage, version_id AS versionId, previous_version_id AS previousVersionId, event_id AS eventId, updated_at AS updatedAt';

/** The current holder of `stage` for the model, or null when nobody holds it. */
export function getStageHolder(db: Database, modelId: number, stage: string): StageHolder | null {
  return (db.prepare(`SELECT ${HOLDER_COLUMNS} FROM stages WHERE model_id = ? AND stage = ?`).get(modelId, stage) as StageHolder | undefined) ?? null;
}

/** Every stage the model has a holder for, by stage name. */
export function listStageHolders(db: Database, modelId: number): StageHolder[] {
  return db.prepare(`SELECT ${HOLDER_COLUMNS} FROM stages WHERE model_id = ? ORDER BY stage`).all(modelId) as StageHolder[];
}

/**
 * Moves `stage` of a model to `versionId`: replaces the pointer and appends the move to
 * stage_history. Must run inside the caller's write transaction together with the move's
 * audit event (appendEvent), so pointer, history and event land together or not at all.
 * Returns the previous holder (null when the stage was empty).
 */
export function moveStage(
  db: Database,
  m: { modelId: number; stage: string; versionId: string; eventId: string; at: string },
): string | null {
  const previous = getStageHolder(db, m.modelId, m.stage)?.versionId ?? null;
  db.prepare(
    `INSERT INTO stages (model_id, stage, version_id, previous_version_id, event_id, updated_at) VALUES (?,?,?,?,?,?)
     ON CONFLICT(model_id, stage) DO UPDATE SET version_id = excluded.version_id, previous_version_id = excluded.previous_version_id,
       event_id = excluded.event_id, updated_at = excluded.updated_at`,
  ).run(m.modelId, m.stage, m.versionId, previous, m.eventId, m.at);
  db.prepare('INSERT INTO stage_history (model_id, stage, version_id, previous_version_id, event_id, at) VALUES (?,?,?,?,?,?)').run(
    m.modelId,
    m.stage,
    m.versionId,
    previous,
    m.eventId,
    m.at,
  );
  return previous;
}

/**
 * The moves of one stage of a model, oldest first, each with the action of its audit
 * event ('promote', 'rollback'; null when the event is not in the local index).
 */
export function stageHistory(db: Database, modelId: number, stage: string): StageHistoryRow[] {
  return db
    .prepare(
      `SELECT h.seq, h.stage, h.version_id AS versionId, h.previous_version_id AS previousVersionId, h.event_id AS eventId, h.at, e.action
       FROM stage_history h LEFT JOIN events e ON e.id = h.event_id
       WHERE h.model_id = ? AND h.stage = ? ORDER BY h.seq`,
    )
    .all(modelId, stage) as StageHistoryRow[];
}

/** The stages a version has held at any time (now or before), sorted. */
export function stagesEverHeld(db: Database, versionId: string): string[] {
  return (
    db.prepare('SELECT DISTINCT stage FROM stage_history WHERE version_id = ? UNION SELECT stage FROM stages WHERE version_id = ? ORDER BY stage').all(versionId, versionId) as {
      stage: string;
    }[]
  ).map((r) => r.stage);
}

/** Every stage of a model with the number and id of its holder, by stage name. */
export function stageHoldersOf(db: Database, model: string): { stage: string; number: number; id: string }[] {
  return db
    .prepare('SELECT s.stage, v.number, v.id FROM stages s JOIN models m ON m.id = s.model_id JOIN versions v ON v.id = s.version_id WHERE m.name = ? ORDER BY s.stage')
    .all(model) as { stage: string; number: number; id: string }[];
}
