import type { Database } from './index-db.js';

/**
 * Signatures and attestations of versions (docs/design.md §11): one bundle per (version,
 * kind, key hint), stored as its exact bytes. Every SQL query about them lives here.
 */

/** What a stored bundle is. */
export type SignatureKind = 'signature' | 'attestation';

/** One stored bundle. */
export interface SignatureRow {
  versionId: string;
  kind: SignatureKind;
  keyHint: string;
  bundle: Buffer;
  /** sha256 of the bundle bytes. */
  bundleId: string;
  createdAt: string;
}

const COLUMNS = 'version_id AS versionId, kind, key_hint AS keyHint, bundle, bundle_id AS bundleId, created_at AS createdAt';

/**
 * Stores a bundle unless the version already has one of this kind by this key (one per
 * key: the first stays). Call inside a write transaction. Returns whether it was stored.
 */
export function insertSignature(db: Database, row: SignatureRow): boolean {
  const r = db
    .prepare('INSERT OR IGNORE INTO signatures (version_id, kind, key_hint, bundle, bundle_id, created_at) VALUES (?,?,?,?,?,?)')
    .run(row.versionId, row.kind, row.keyHint, row.bundle, row.bundleId, row.createdAt);
  return r.changes > 0;
}

/** The bundle of a version by kind and key, or null. */
export function getSignature(db: Database, versionId: string, kind: SignatureKind, keyHint: string): SignatureRow | null {
  return (db.prepare(`SELECT ${COLUMNS} FROM signatures WHERE version_id = ? AND kind = ? AND key_hint = ?`).get(versionId, kind, keyHint) as SignatureRow | undefined) ?? null;
}

/** Every bundle of a version, signatures first, oldest first. */
export function signaturesOfVersion(db: Database, versionId: string): SignatureRow[] {
  return db.prepare(`SELECT ${COLUMNS} FROM signatures WHERE version_id = ? ORDER BY kind DESC, created_at, key_hint`).all(versionId) as SignatureRow[];
}

/** Bundles of these versions that the remote is not known to have. */
export function signaturesNotOnRemote(db: Database, remote: string, versionIds: readonly string[]): SignatureRow[] {
  const q = db.prepare(
    `SELECT ${COLUMNS} FROM signatures s WHERE s.version_id = ? AND NOT EXISTS
       (SELECT 1 FROM remote_signatures r WHERE r.remote = ? AND r.version_id = s.version_id AND r.kind = s.kind AND r.key_hint = s.key_hint)
     ORDER BY kind DESC, created_at, key_hint`,
  );
  return versionIds.flatMap((id) => q.all(id, remote) as SignatureRow[]);
}

/** Records that the remote has these bundles (call inside a write transaction). */
export function markSignaturesOnRemote(db: Database, remote: string, rows: readonly Pick<SignatureRow, 'versionId' | 'kind' | 'keyHint'>[]): void {
  const ins = db.prepare('INSERT OR IGNORE INTO remote_signatures (remote, version_id, kind, key_hint) VALUES (?,?,?,?)');
  for (const r of rows) ins.run(remote, r.versionId, r.kind, r.keyHint);
}
