import type { Database } from './index-db.js';

/**
 * What the index remembers about each remote (keyed by a stable remote id: its display
 * URL plus endpoint), so push and fetch skip work already done: chunks known present,
 * versions pushed or fetched with their remote number, and refs as last seen (ETag + value)
 * for compare-and-swap.
 */

/** Chunk (or `f:<file digest>` file list) digests known to be on the remote, from a candidate list. */
export function knownRemoteChunks(db: Database, remoteId: string, digests: readonly string[]): Set<string> {
  const known = new Set<string>();
  const stmt = db.prepare('SELECT 1 FROM remote_chunks WHERE remote = ? AND digest = ?');
  for (const d of digests) if (stmt.get(remoteId, d)) known.add(d);
  return known;
}

/** Records chunks as present on the remote (call inside a transaction for batches). */
export function rememberRemoteChunks(db: Database, remoteId: string, digests: Iterable<string>): void {
  const stmt = db.prepare('INSERT OR IGNORE INTO remote_chunks (remote, digest) VALUES (?, ?)');
  for (const d of digests) stmt.run(remoteId, d);
}

/** The remote number of a version, or undefined when the remote is not known to have it. */
export function remoteVersionNumber(db: Database, remoteId: string, versionId: string): number | null | undefined {
  const r = db.prepare('SELECT number FROM remote_versions WHERE remote = ? AND version_id = ?').get(remoteId, versionId) as { number: number | null } | undefined;
  return r ? r.number : undefined;
}

/** Records that the remote holds a version (with its number once claimed). */
export function rememberRemoteVersion(db: Database, remoteId: string, versionId: string, number: number | null): void {
  db.prepare(
    'INSERT INTO remote_versions (remote, version_id, number) VALUES (?,?,?) ON CONFLICT(remote, version_id) DO UPDATE SET number = COALESCE(excluded.number, remote_versions.number)',
  ).run(remoteId, versionId, number);
}

/** True when the version's number is final: it was pushed to or fetched from any remote. */
export function isNumberFinal(db: Database, versionId: string): boolean {
  return !!db.prepare('SELECT 1 FROM remote_versions WHERE version_id = ? AND number IS NOT NULL LIMIT 1').get(versionId);
}

export interface RemoteRef {
  etag: string | null;
  value: unknown;
}

/** A ref (tag or stage key) as last seen on the remote, or null when never seen. */
export function getRemoteRef(db: Database, remoteId: string, key: string): RemoteRef | null {
  const r = db.prepare('SELECT etag, value_json AS v FROM remote_refs WHERE remote = ? AND key = ?').get(remoteId, key) as { etag: string | null; v: string | null } | undefined;
  return r ? { etag: r.etag, value: r.v === null ? null : JSON.parse(r.v) } : null;
}

/** Remembers a ref as seen (value null with etag null: known absent). */
export function setRemoteRef(db: Database, remoteId: string, key: string, ref: RemoteRef): void {
  db.prepare(
    'INSERT INTO remote_refs (remote, key, etag, value_json) VALUES (?,?,?,?) ON CONFLICT(remote, key) DO UPDATE SET etag = excluded.etag, value_json = excluded.value_json',
  ).run(remoteId, key, ref.etag, ref.value === null ? null : JSON.stringify(ref.value));
}

/** The numbers this remote is known to have given versions of `model`. */
export function remoteNumbersOf(db: Database, remoteId: string, model: string): Set<number> {
  const rows = db
    .prepare('SELECT rv.number AS n FROM remote_versions rv JOIN versions v ON v.id = rv.version_id JOIN models m ON m.id = v.model_id WHERE rv.remote = ? AND m.name = ? AND rv.number IS NOT NULL')
    .all(remoteId, model) as { n: number }[];
  return new Set(rows.map((r) => r.n));
}

/** Keys under `prefix` last seen present on the remote (a ref with a value). */
export function seenRemoteRefKeys(db: Database, remoteId: string, prefix: string): string[] {
  return seenRemoteRefs(db, remoteId, prefix).map((r) => r.key);
}

/** Refs under `prefix` last seen present on the remote, with the document seen. */
export function seenRemoteRefs(db: Database, remoteId: string, prefix: string): { key: string; value: unknown }[] {
  const rows = db.prepare('SELECT key, value_json AS v FROM remote_refs WHERE remote = ? AND substr(key, 1, ?) = ? AND value_json IS NOT NULL').all(remoteId, prefix.length, prefix) as { key: string; v: string }[];
  return rows.map((r) => ({ key: r.key, value: JSON.parse(r.v) as unknown }));
}

/**
 * Forgets every chunk and file list remembered as on the remote: after a remote gc swept,
 * that memory may name objects it deleted (docs/design.md §16).
 */
export function forgetRemoteChunks(db: Database, remoteId: string): void {
  db.prepare('DELETE FROM remote_chunks WHERE remote = ?').run(remoteId);
}

/** Forgets that the remote holds these versions (they were removed there). */
export function forgetRemoteVersions(db: Database, remoteId: string, versionIds: Iterable<string>): void {
  const stmt = db.prepare('DELETE FROM remote_versions WHERE remote = ? AND version_id = ?');
  for (const id of versionIds) stmt.run(remoteId, id);
}

/**
 * Forgets everything remembered about a remote: chunks, versions and numbers, refs as last
 * seen, events and signatures published there. For a remote that is not the one this memory
 * was of (emptied, or made anew under the same URL: its format marker changed), where
 * trusting it would make push skip what is no longer there (docs/design.md §7). Like
 * forgetRemoteVersions, not written to the ref journal: an index rebuilt from the journal
 * remembers those rows again (and not the marker, so it cannot tell).
 */
export function forgetRemote(db: Database, remoteId: string): void {
  for (const table of ['remote_chunks', 'remote_versions', 'remote_refs', 'remote_events', 'remote_signatures']) {
    db.prepare(`DELETE FROM ${table} WHERE remote = ?`).run(remoteId);
  }
}
