import { parseSignatureKey, signatureKey, signatureKindPrefix, type SignatureObjectKind } from '../core/signature-layout.js';
import { ModelctlError } from '../errors.js';
import { isPreconditionFailed, type Remote } from '../remote/remote.js';
import { writeTransaction, type Database } from '../store/index-db.js';
import { getSignature, insertSignature, markSignaturesOnRemote, signaturesNotOnRemote, type SignatureRow } from '../store/signatures-table.js';
import { getVersion } from '../store/version-records.js';

/**
 * Signatures travel with versions (docs/design.md §11): push publishes each bundle the
 * remote lacks, create-only, one object per version, kind and key; fetch and pull bring
 * the bundles of the versions they know. A bundle read from a remote is kept only when it
 * parses and names the key it is filed under; it is checked like any other whenever used.
 */

/** What publishing did. */
export interface SignaturePublishResult {
  published: number;
  alreadyThere: number;
  /** A different bundle by the same key was there first (another clone signed too): the remote's stays. */
  warnings: string[];
}

/**
 * Puts every bundle of `versionIds` that `remoteId` is not known to have, create-only. Call
 * after the versions' manifests are on the remote and before their numbers, tags and
 * stages (§11 write order). Returns counts; remote errors propagate (exit 7).
 */
export async function publishSignatures(db: Database, remote: Remote, remoteId: string, versionIds: readonly string[]): Promise<SignaturePublishResult> {
  const rows = signaturesNotOnRemote(db, remoteId, versionIds);
  const result: SignaturePublishResult = { published: 0, alreadyThere: 0, warnings: [] };
  const done: SignatureRow[] = [];
  for (const row of rows) {
    const key = signatureKey(row.versionId, row.kind, row.keyHint);
    try {
      await remote.put(key, row.bundle, { condition: { ifAbsent: true } });
      result.published++;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      const there = await remote.get(key);
      if (there && !there.body.equals(row.bundle)) {
        const v = getVersion(db, row.versionId);
        result.warnings.push(`${remote.displayUrl} already has another ${row.kind} of ${v ? `${v.model}@v${v.number}` : row.versionId.slice(0, 12)} by key ${row.keyHint.slice(0, 12)}…; it was kept (one per key)`);
      }
      result.alreadyThere++;
    }
    done.push(row);
  }
  if (done.length) writeTransaction(db, () => markSignaturesOnRemote(db, remoteId, done));
  return result;
}

/** What fetching brought. */
export interface SignatureFetchResult {
  fetched: number;
  /** Keys refused (malformed, misfiled), each with why; nothing was stored from them. */
  rejected: { key: string; code: string; reason: string }[];
}

/**
 * Brings the remote's bundles of every version the index knows (or only `onlyVersions`):
 * one listing per kind, then a GET of each bundle not held locally. A bundle that does not
 * parse, or whose `publicKey.hint` is not the key it is filed under, is rejected and
 * reported, never stored. One per key: a local bundle by the same key stays.
 */
export async function fetchSignatures(db: Database, remote: Remote, remoteId: string, onlyVersions?: ReadonlySet<string>): Promise<SignatureFetchResult> {
  const result: SignatureFetchResult = { fetched: 0, rejected: [] };
  const wanted: { key: string; versionId: string; kind: SignatureObjectKind; hint: string }[] = [];
  for (const kind of ['signature', 'attestation'] as const) {
    for await (const info of remote.list(signatureKindPrefix(kind))) {
      const k = parseSignatureKey(info.key);
      if (!k) continue;
      if (onlyVersions && !onlyVersions.has(k.versionId)) continue;
      if (!getVersion(db, k.versionId)) continue;
      if (getSignature(db, k.versionId, k.kind, k.hint)) continue;
      wanted.push({ key: info.key, ...k });
    }
  }
  const rows: SignatureRow[] = [];
  // Checking a bundle parses untrusted input with the validator (zod): loaded only when
  // there is one to bring, so commands that merely import push or fetch (tags) start without it.
  const { filedSignatureRow } = wanted.length ? await import('../signing/bundle.js') : ({} as typeof import('../signing/bundle.js'));
  for (const w of wanted) {
    const got = await remote.get(w.key);
    if (!got) continue;
    try {
      rows.push(filedSignatureRow(got.body, w, w.key));
    } catch (err) {
      if (!(err instanceof ModelctlError)) throw err;
      result.rejected.push({ key: w.key, code: err.code, reason: err.message });
    }
  }
  if (rows.length) {
    writeTransaction(db, () => {
      for (const r of rows) if (insertSignature(db, r)) result.fetched++;
      markSignaturesOnRemote(db, remoteId, rows);
    });
  }
  return result;
}
