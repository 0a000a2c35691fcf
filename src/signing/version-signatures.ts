import type { ManifestFile } from '../core/manifest.js';
import { ModelctlError } from '../errors.js';
import type { Database } from '../store/index-db.js';
import type { ObjectStore } from '../store/objects.js';
import { signaturesOfVersion, type SignatureKind, type SignatureRow } from '../store/signatures-table.js';
import { wholeFileSha256 } from '../store/whole-file-sha256.js';
import { bundlePayload, checkBundleSignature, parseBundle } from './bundle.js';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse.js';
import { diffManifest, manifestsMatch, parseOmsStatement, type ManifestDifference } from './oms-statement.js';
import { parseProvenanceSubjects } from './slsa-provenance.js';
import { trustedKeyByHint, type TrustedKey } from './trust.js';

/**
 * The signatures a version carries, checked against the repository's trusted keys and the
 * version's files (docs/design.md §11). Reads the index only: the whole-file sha256 of
 * each file comes from `file_sha256` (computed from the store the first time), so checking
 * again reads no file bytes.
 */

/** The verdict on one stored signature or attestation. */
export interface SignatureCheck {
  kind: SignatureKind;
  keyHint: string;
  /** The trust.keys name of the signer, or null when no trusted key has this hint. */
  keyName: string | null;
  /** True: valid; false: invalid (see problem); null: not checkable (untrusted key, bytes not local). */
  valid: boolean | null;
  problem: string | null;
  /** Files that differ from what was signed, when that is the problem. */
  difference?: ManifestDifference;
  createdAt: string;
  bundleId: string;
}

/**
 * Checks one bundle against a version's files: a trusted key with its hint, a valid DSSE
 * signature by it, an in-toto payload, and a statement naming exactly the version's files
 * with the sha256 of their bytes (an OMS manifest for signatures; the subjects of a SLSA
 * provenance for attestations). `sha256ByDigest` null: the bytes are not local, so the
 * file comparison cannot be made (valid: null) unless the bundle is already invalid.
 */
export function checkSignatureRow(
  row: SignatureRow,
  files: readonly ManifestFile[],
  sha256ByDigest: ReadonlyMap<string, string> | null,
  trusted: readonly TrustedKey[],
): SignatureCheck {
  const base = { kind: row.kind, keyHint: row.keyHint, createdAt: row.createdAt, bundleId: row.bundleId };
  const key = trustedKeyByHint(trusted, row.keyHint);
  if (!key) return { ...base, keyName: null, valid: null, problem: 'signed by a key that is not in trust.keys' };
  const verdict = (valid: boolean | null, problem: string | null, difference?: ManifestDifference): SignatureCheck => ({
    ...base,
    keyName: key.name,
    valid,
    problem,
    ...(difference ? { difference } : {}),
  });
  try {
    const bundle = parseBundle(row.bundle, `the ${row.kind} by '${key.name}'`);
    if (bundle.keyHint !== row.keyHint) return verdict(false, 'the bundle names another key than the one it is stored under');
    checkBundleSignature(bundle, key, `trusted key '${key.name}'`);
    if (bundle.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return verdict(false, `payload type '${bundle.envelope.payloadType}' is not an in-toto statement`);
    const payload = bundlePayload(bundle);
    let signed;
    if (row.kind === 'signature') {
      const manifest = parseOmsStatement(payload);
      if (manifest.serialization.method !== 'files' || manifest.serialization.hash_type !== 'sha256') {
        return verdict(false, `signed with ${manifest.serialization.method}/${manifest.serialization.hash_type}; a version is signed with files/sha256`);
      }
      signed = manifest.resources;
    } else {
      signed = parseProvenanceSubjects(payload);
    }
    if (!sha256ByDigest) return verdict(null, 'the version\'s bytes are not in the local store (pull it to check the files)');
    const actual = new Map<string, { algorithm: string; digest: string }>();
    for (const f of files) {
      const sha = sha256ByDigest.get(f.digest);
      if (!sha) return verdict(null, `the sha256 of '${f.path}' is unknown (pull the version to check the files)`);
      actual.set(f.path, { algorithm: 'sha256', digest: sha });
    }
    const diff = diffManifest(signed, actual);
    if (!manifestsMatch(diff)) return verdict(false, describeDifference(diff), diff);
    return verdict(true, null);
  } catch (err) {
    if (err instanceof ModelctlError) return verdict(false, err.message);
    throw err;
  }
}

/**
 * Every signature and attestation of a version, each checked. The files' sha256 are taken
 * from the index, or computed from local objects (and recorded); when some object is not
 * local the file comparison is skipped (valid: null) rather than failing.
 */
export function checkVersionSignatures(db: Database, store: ObjectStore, versionId: string, files: readonly ManifestFile[], trusted: readonly TrustedKey[]): SignatureCheck[] {
  const rows = signaturesOfVersion(db, versionId);
  if (rows.length === 0) return [];
  const anyTrusted = rows.some((r) => trustedKeyByHint(trusted, r.keyHint));
  const sha = anyTrusted ? wholeFileSha256(db, store, files, { allowMissing: true }) : new Map<string, string>();
  const complete = files.every((f) => sha.has(f.digest));
  return rows.map((r) => checkSignatureRow(r, files, complete ? sha : null, trusted));
}

/** The trust.keys names that made a valid signature (not an attestation) of the version. */
export function validSignerNames(checks: readonly SignatureCheck[]): string[] {
  return [...new Set(checks.filter((c) => c.kind === 'signature' && c.valid === true && c.keyName).map((c) => c.keyName as string))].sort();
}

/** "changed: a, b; missing: c; not signed: d" (first few of each). */
export function describeDifference(d: ManifestDifference): string {
  const part = (label: string, xs: string[]) => (xs.length ? `${label}: ${xs.slice(0, 5).join(', ')}${xs.length > 5 ? `, … (${xs.length})` : ''}` : null);
  return ['the files differ from what was signed', [part('changed', d.changed), part('missing', d.missing), part('not signed', d.extra)].filter(Boolean).join('; ')].join(' — ');
}

