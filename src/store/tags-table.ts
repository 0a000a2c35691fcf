import { ConflictError, NotFoundError } from '../errors.js';
import type { Database } from './index-db.js';

export interface TagRow {
  name: string;
  versionId: string;
  message: string | null;
  createdAt: string;
  actor: string;
}

/** The tag row or null. */
export function getTag(db: Database, modelId: number, name: string): TagRow | null {
  return (
    (db
      .prepare('SELECT name, version_id AS versionId, message, created_at AS createdAt, actor FROM tags WHERE model_id = ? AND name = ?')
      .get(modelId, name) as TagRow | undefined) ?? null
  );
}

/** Throws the ConflictError (4) of a create-only tag when `name` exists on the model. */
export function assertTagFree(db: Database, modelId: number, model: string, name: string): void {
  const existing = getTag(db, modelId, name);
  if (existing) {
    throw new ConflictError('TAG_EXISTS', `tag '${name}' already exists on ${model} (version ${existing.versionId.slice(0, 12)})`, {
      hint: `tags are immutable; move it with \`modelctl tag ${model}@<ref> ${name} --force\``,
    });
  }
}

/**
 * Points tag `name` at a version (inside the caller's transaction). Tags are create-only:
 * an existing tag on another version is a ConflictError (4) unless `force`. Returns the
 * version it pointed at before (null when new).
 */
export function setTag(
  db: Database,
  t: { modelId: number; model: string; name: string; versionId: string; message: string | null; actor: string; force: boolean },
): string | null {
  const existing = getTag(db, t.modelId, t.name);
  if (existing && existing.versionId === t.versionId) return existing.versionId;
  if (!t.force) assertTagFree(db, t.modelId, t.model, t.name);
  db.prepare(
    `INSERT INTO tags (model_id, name, version_id, message, created_at, actor) VALUES (?,?,?,?,?,?)
     ON CONFLICT(model_id, name) DO UPDATE SET version_id = excluded.version_id, message = excluded.message, created_at = excluded.created_at, actor = excluded.actor`,
  ).run(t.modelId, t.name, t.versionId, t.message, new Date().toISOString(), t.actor);
  return existing?.versionId ?? null;
}

/** Deletes a tag; NotFoundError (3) when absent. Returns the version it pointed at. */
export function deleteTag(db: Database, modelId: number, model: string, name: string): string {
  const existing = getTag(db, modelId, name);
  if (!existing) throw new NotFoundError('UNKNOWN_TAG', `no tag '${name}' on model '${model}'`, { hint: `list tags with \`modelctl tags ${model}\`` });
  db.prepare('DELETE FROM tags WHERE model_id = ? AND name = ?').run(modelId, name);
  return existing.versionId;
}

/** Tags of a model, by name. */
export function listTags(db: Database, modelId: number): TagRow[] {
  return db
    .prepare('SELECT name, version_id AS versionId, message, created_at AS createdAt, actor FROM tags WHERE model_id = ? ORDER BY name')
    .all(modelId) as TagRow[];
}

/** The tags naming one version, with their messages, by name. */
export function tagsNamingVersion(db: Database, versionId: string): { name: string; message: string | null }[] {
  return db.prepare('SELECT name, message FROM tags WHERE version_id = ? ORDER BY name').all(versionId) as { name: string; message: string | null }[];
}
