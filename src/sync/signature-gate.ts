import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestFile } from '../core/manifest.js';
import { IntegrityError } from '../errors.js';
import { checkSignatureRow, validSignerNames, type SignatureCheck } from '../signing/version-signatures.js';
import type { TrustedKey } from '../signing/trust.js';
import type { Database } from '../store/index-db.js';
import type { ObjectStore } from '../store/objects.js';
import { signaturesOfVersion, type SignatureRow } from '../store/signatures-table.js';
import { knownWholeFileSha256, recordWholeFileSha256, sha256OfFile } from '../store/whole-file-sha256.js';
import { DEFAULT_SIGNATURE_FILE } from '../signing/oms-statement.js';
import { writeFileAtomic } from '../workspace/atomic-file.js';
import type { Settings } from '../workspace/config.js';
import { loadTrustedKeys, requiredSignerNames } from '../workspace/trusted-keys.js';

/**
 * The signature gate of pull (docs/design.md §11): when the version's model or a stage it
 * holds requires signatures (or the caller names keys), every required key must have made a
 * valid signature of it, checked against the bytes about to be placed, before anything is
 * placed. And `pull --out` leaves the version's `model.sig` beside the files, so the folder
 * verifies with `model_signing verify key` as it is.
 */

/** The keys a pull of `model` (its version holding `stages`) must find signatures by: the policy's, plus `extra`. */
export function pullSignatureKeys(settings: Settings, root: string, model: string, stages: readonly string[], extra: readonly TrustedKey[] = []): TrustedKey[] {
  const names = requiredSignerNames(settings, model, stages);
  const keys = names.length ? loadTrustedKeys(settings, root, names) : [];
  for (const k of extra) if (!keys.some((x) => x.hint === k.hint)) keys.push(k);
  return keys;
}

/**
 * Checks the version's signatures against `keys`. The sha256 of each file comes from the
 * index, else from its object in the store, else from `placedPath(file)` (a file the target
 * already holds with exactly these bytes, so it was not downloaded). Throws IntegrityError
 * (exit 6) naming each key without a valid signature: SIGNATURE_MISSING, or
 * SIGNATURE_INVALID when its signature is there but does not match.
 */
export function verifyBeforePlacing(
  db: Database,
  store: ObjectStore,
  version: { id: string; model: string; number: number },
  files: readonly ManifestFile[],
  keys: readonly TrustedKey[],
  placedPath: (f: ManifestFile) => string | null,
): SignatureCheck[] {
  const sha = knownWholeFileSha256(db, files.map((f) => f.digest));
  const computed = new Map<string, string>();
  for (const f of files) {
    if (sha.has(f.digest) || computed.has(f.digest)) continue;
    const source = store.hasObject(f.digest) ? store.objectPath(f.digest) : placedPath(f);
    if (!source) continue;
    const r = sha256OfFile(source);
    if (r.size === f.size) computed.set(f.digest, r.sha256);
  }
  recordWholeFileSha256(db, computed);
  for (const [d, s] of computed) sha.set(d, s);
  const complete = files.every((f) => sha.has(f.digest));
  const checks = signaturesOfVersion(db, version.id).map((r) => checkSignatureRow(r, files, complete ? sha : null, keys));
  const signed = validSignerNames(checks);
  const missing = keys.filter((k) => !signed.includes(k.name)).map((k) => k.name);
  if (missing.length) {
    const ref = `${version.model}@v${version.number}`;
    const invalid = checks.filter((c) => c.valid === false && c.keyName !== null && missing.includes(c.keyName));
    throw new IntegrityError(
      invalid.length ? 'SIGNATURE_INVALID' : 'SIGNATURE_MISSING',
      `${ref} is not validly signed by ${missing.map((n) => `'${n}'`).join(', ')}${invalid.length ? ` (${invalid.map((c) => c.problem).join('; ')})` : ''}; nothing was placed`,
      {
        hint: `sign it with that key and push it (\`modelctl sign ${ref} --key <private.pem> && modelctl push\`), or check trust.keys`,
        data: { missing, signatures: checks },
      },
    );
  }
  return checks;
}

/** Where `pull --out` wrote the version's signature, and whose it is. */
export interface DeployedSignature {
  path: string;
  keyHint: string;
  keyName: string | null;
}

/**
 * Writes the version's OMS signature as `<outDir>/model.sig` (atomically): the one by the
 * first required key, else the first valid one by a trusted key, else the oldest. Nothing
 * when the version has no signature, or when a file of the version is itself `model.sig`.
 */
export function writeDeployedSignature(db: Database, versionId: string, files: readonly ManifestFile[], outDir: string, checks: readonly SignatureCheck[], keys: readonly TrustedKey[]): DeployedSignature | null {
  if (files.some((f) => f.path === DEFAULT_SIGNATURE_FILE)) return null;
  const rows = signaturesOfVersion(db, versionId).filter((r) => r.kind === 'signature');
  if (!rows.length) return null;
  const valid = (r: SignatureRow) => checks.some((c) => c.kind === 'signature' && c.keyHint === r.keyHint && c.valid === true);
  const pick = keys.map((k) => rows.find((r) => r.keyHint === k.hint && valid(r))).find(Boolean) ?? rows.find(valid) ?? rows[0];
  const path = join(outDir, DEFAULT_SIGNATURE_FILE);
  if (existsSync(path) && !lstatSync(path).isFile()) return null;
  writeFileAtomic(path, pick.bundle);
  const name = checks.find((c) => c.keyHint === pick.keyHint)?.keyName ?? keys.find((k) => k.hint === pick.keyHint)?.name ?? null;
  return { path, keyHint: pick.keyHint, keyName: name };
}
