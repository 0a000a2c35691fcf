import { canonicalJson } from '../core/canonical-json.js';
import type { ManifestFile, VersionManifest } from '../core/manifest.js';
import { isClaimed } from './gc-claims.js';
import type { ChunkRef } from './hash-file.js';
import type { Database } from './index-db.js';
import { prepared } from './prepared.js';

/** One version as the index knows it (no files, no lineage). */
export interface VersionRow {
  id: string;
  model: string;
  number: number;
  createdAt: string;
  author: string;
  message: string;
  fileCount: number;
  totalSize: number;
  identity: string;
  parentId: string | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
  archived: boolean;
}

/** The columns of a VersionRow (aliases v for versions, m for models). */
export const VERSION_COLUMNS = `v.id, m.name AS model, v.number, v.created_at AS createdAt, v.author, v.message,
  v.file_count AS fileCount, v.total_size AS totalSize, v.identity, v.parent_id AS parentId,
  v.git_commit AS gitCommit, v.git_dirty AS gitDirty, v.archived`;

/** A version row as SQLite returns it (flags as integers). */
export type RawVersion = Omit<VersionRow, 'gitDirty' | 'archived'> & { gitDirty: number | null; archived: number };

function toRow(r: RawVersion | undefined): VersionRow | null {
  return r ? toVersionRow(r) : null;
}

/** A raw row as a VersionRow (flags as booleans). */
export function toVersionRow(r: RawVersion): VersionRow {
  return { ...r, gitDirty: r.gitDirty === null ? null : r.gitDirty === 1, archived: r.archived === 1 };
}

/** The model's id, creating the model row if needed (call inside a write transaction). */
export function ensureModel(db: Database, name: string): number {
  const found = db.prepare('SELECT id FROM models WHERE name = ?').get(name) as { id: number } | undefined;
  if (found) return found.id;
  return Number(db.prepare('INSERT INTO models (name, created_at) VALUES (?, ?)').run(name, new Date().toISOString()).lastInsertRowid);
}

/** The model's id or null. */
export function findModelId(db: Database, name: string): number | null {
  return (db.prepare('SELECT id FROM models WHERE name = ?').get(name) as { id: number } | undefined)?.id ?? null;
}

/** Every model name, sorted. */
export function listModelNames(db: Database): string[] {
  return (db.prepare('SELECT name FROM models ORDER BY name').all() as { name: string }[]).map((r) => r.name);
}

/** The next free version number of a model (1 for a new model). */
export function nextVersionNumber(db: Database, modelId: number): number {
  const r = db.prepare('SELECT MAX(number) AS n FROM versions WHERE model_id = ?').get(modelId) as { n: number | null };
  return (r.n ?? 0) + 1;
}

/**
 * Inserts a version with its files, params, metrics and lineage inputs. Must run inside
 * a write transaction. A version id already present is left as it is (returns false).
 */
export function insertVersion(
  db: Database,
  v: { id: string; manifest: VersionManifest; number: number; identity: string },
): boolean {
  if (db.prepare('SELECT 1 FROM versions WHERE id = ?').get(v.id)) return false;
  const m = v.manifest;
  const modelId = ensureModel(db, m.model);
  const totalSize = m.files.reduce((s, f) => s + f.size, 0);
  db.prepare(
    `INSERT INTO versions (id, model_id, number, created_at, author, message, file_count, total_size, identity, parent_id, git_commit, git_dirty)
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
  ).run(
    v.id,
    modelId,
    v.number,
    m.created,
    m.author,
    m.message,
    m.files.length,
    totalSize,
    v.identity,
    m.lineage.parent?.version ?? null,
    m.lineage.code?.commit ?? null,
    m.lineage.code ? (m.lineage.code.dirty ? 1 : 0) : null,
  );
  const insFile = db.prepare('INSERT INTO files (version_id, path, size, mode, digest) VALUES (?,?,?,?,?)');
  for (const f of m.files) insFile.run(v.id, f.path, f.size, f.mode, f.digest);
  const insParam = db.prepare('INSERT INTO params (version_id, key, value_json) VALUES (?,?,?)');
  for (const [k, val] of Object.entries(m.lineage.params)) insParam.run(v.id, k, canonicalJson(val));
  const insMetric = db.prepare('INSERT INTO metrics (version_id, key, value_json, value_num) VALUES (?,?,?,?)');
  for (const [k, val] of Object.entries(m.lineage.metrics)) {
    insMetric.run(v.id, k, canonicalJson(val), typeof val === 'number' ? val : null);
  }
  const insInput = db.prepare('INSERT INTO lineage_inputs (version_id, seq, kind, source, digest, size, detail_json) VALUES (?,?,?,?,?,?,?)');
  m.lineage.data.forEach((d, i) => insInput.run(v.id, i, d.kind, d.source, d.digest ?? null, d.size ?? null, canonicalJson(d)));
  return true;
}

/**
 * Records a whole-file object present in the store, with its chunk map. An object a live
 * gc has claimed is being deleted: it gets no row (a row would name bytes about to go), and
 * the version that needs it stores it again (store/gc-claims.ts). Returns whether the row
 * is there now.
 */
export function recordObject(db: Database, digest: string, size: number, chunks: readonly ChunkRef[]): boolean {
  recordFileChunks(db, digest, chunks);
  if (isClaimed(db, digest)) return false;
  prepared(db, 'INSERT OR IGNORE INTO objects (digest, size, chunk_count) VALUES (?,?,?)').run(digest, size, chunks.length);
  return true;
}

/** Records a file's chunk list (known from a commit or a remote file list). */
export function recordFileChunks(db: Database, fileDigest: string, chunks: readonly ChunkRef[]): void {
  if (prepared(db, 'SELECT 1 FROM chunks WHERE file_digest = ? LIMIT 1').get(fileDigest)) return;
  const ins = prepared(db, 'INSERT INTO chunks (file_digest, seq, digest, offset, length) VALUES (?,?,?,?,?)');
  chunks.forEach((c, i) => ins.run(fileDigest, i, c.digest, c.offset, c.length));
}

/** A file's chunk list in order, or null when unknown. */
export function fileChunks(db: Database, fileDigest: string): ChunkRef[] | null {
  const rows = prepared(db, 'SELECT digest, offset, length FROM chunks WHERE file_digest = ? ORDER BY seq').all(fileDigest) as ChunkRef[];
  return rows.length ? rows : null;
}

/** Where a chunk's bytes can be read locally: an object holding it, or null. Asked once per chunk a pull places (prepared once). */
export function localChunkSource(db: Database, chunkDigest: string): { fileDigest: string; offset: number; length: number } | null {
  return (
    (prepared(db, 'SELECT c.file_digest AS fileDigest, c.offset, c.length FROM chunks c JOIN objects o ON o.digest = c.file_digest WHERE c.digest = ? LIMIT 1').get(chunkDigest) as
      | { fileDigest: string; offset: number; length: number }
      | undefined) ?? null
  );
}

/** How many chunks the index records for a present object, or null when it has no row. */
export function objectChunkCount(db: Database, digest: string): number | null {
  const row = prepared(db, 'SELECT chunk_count AS n FROM objects WHERE digest = ?').get(digest) as { n: number } | undefined;
  return row ? row.n : null;
}

/** True when the index records the object as present. */
export function hasObjectRow(db: Database, digest: string): boolean {
  return !!prepared(db, 'SELECT 1 FROM objects WHERE digest = ?').get(digest);
}

/** True when the version has files and the index records an object for every one of them (one query; no file is stat'ed). */
export function hasAllObjectRows(db: Database, versionId: string): boolean {
  const row = prepared(
    db,
    `SELECT EXISTS (SELECT 1 FROM files WHERE version_id = ?)
        AND NOT EXISTS (SELECT 1 FROM files f WHERE f.version_id = ? AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.digest = f.digest)) AS whole`,
  ).get(versionId, versionId) as { whole: number };
  return row.whole === 1;
}

/** True when some version of any model has a file with this digest (its bytes can be checked out again). */
export function isCommittedDigest(db: Database, digest: string): boolean {
  return db.prepare('SELECT 1 FROM files WHERE digest = ? LIMIT 1').get(digest) !== undefined;
}

/** One version by full id. */
export function getVersion(db: Database, id: string): VersionRow | null {
  return toRow(db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id WHERE v.id = ?`).get(id) as RawVersion | undefined);
}

/** One version by model and number. */
export function getVersionByNumber(db: Database, model: string, number: number): VersionRow | null {
  return toRow(
    db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? AND v.number = ?`).get(model, number) as
      | RawVersion
      | undefined,
  );
}

/** The highest-numbered version of a model, or null. */
export function latestVersion(db: Database, model: string): VersionRow | null {
  return toRow(
    db
      .prepare(`SELECT ${VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.number DESC LIMIT 1`)
      .get(model) as RawVersion | undefined,
  );
}

/** Versions of a model, newest first. */
export function listVersions(db: Database, model: string, limit = -1): VersionRow[] {
  return (
    db
      .prepare(`SELECT ${VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.number DESC LIMIT ?`)
      .all(model, limit) as RawVersion[]
  ).map((r) => toRow(r) as VersionRow);
}

/** Versions of a model whose id starts with `prefix`. */
export function versionsByIdPrefix(db: Database, model: string, prefix: string): VersionRow[] {
  return (
    db
      .prepare(`SELECT ${VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? AND v.id >= ? AND v.id < ? LIMIT 2`)
      .all(model, prefix, `${prefix}g`) as RawVersion[]
  ).map((r) => toRow(r) as VersionRow);
}

/** The files of a version, sorted by path. */
export function versionFiles(db: Database, id: string): ManifestFile[] {
  return db.prepare('SELECT path, size, mode, digest FROM files WHERE version_id = ? ORDER BY path').all(id) as ManifestFile[];
}

/** Tag names pointing at a version. */
export function tagsOfVersion(db: Database, id: string): string[] {
  return (db.prepare('SELECT name FROM tags WHERE version_id = ? ORDER BY name').all(id) as { name: string }[]).map((r) => r.name);
}

/** Stages a version holds now. */
export function stagesOfVersion(db: Database, id: string): string[] {
  return (db.prepare('SELECT stage FROM stages WHERE version_id = ? ORDER BY stage').all(id) as { stage: string }[]).map((r) => r.stage);
}

/**
 * Gives a version another number (inside a transaction). A version already holding
 * `newNumber` is moved to the model's next free number first (at least `bumpTo`, so a
 * caller that is about to hand out higher numbers too moves it once). Returns the versions
 * moved as `{ id, from, to }`, the bumped one first.
 */
export function renumberVersion(db: Database, id: string, newNumber: number, bumpTo = 0): { id: string; from: number; to: number }[] {
  const row = db.prepare('SELECT model_id AS modelId, number FROM versions WHERE id = ?').get(id) as { modelId: number; number: number } | undefined;
  if (!row || row.number === newNumber) return [];
  const moved: { id: string; from: number; to: number }[] = [];
  const holder = db.prepare('SELECT id FROM versions WHERE model_id = ? AND number = ?').get(row.modelId, newNumber) as { id: string } | undefined;
  if (holder) {
    const free = Math.max(nextVersionNumber(db, row.modelId), newNumber + 1, bumpTo);
    db.prepare('UPDATE versions SET number = ? WHERE id = ?').run(free, holder.id);
    moved.push({ id: holder.id, from: newNumber, to: free });
  }
  db.prepare('UPDATE versions SET number = ? WHERE id = ?').run(newNumber, id);
  moved.push({ id, from: row.number, to: newNumber });
  return moved;
}

/** True when some version of this index has a file with this digest (committed content). */
export function isKnownFileDigest(db: Database, digest: string): boolean {
  return !!db.prepare('SELECT 1 FROM files WHERE digest = ? LIMIT 1').get(digest);
}

/** How many versions a model has. */
export function versionCount(db: Database, model: string): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ?').get(model) as { n: number }).n;
}
