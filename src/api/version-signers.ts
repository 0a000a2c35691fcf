import type { ManifestFile } from '../core/manifest.js';
import { ModelctlError } from '../errors.js';
import { checkVersionSignatures, validSignerNames, type SignatureCheck } from '../signing/version-signatures.js';
import type { TrustedKey } from '../signing/trust.js';
import { versionFiles } from '../store/version-records.js';
import { loadTrustedKeys } from '../workspace/trusted-keys.js';
import type { Repository } from './repository.js';

/**
 * The trusted keys among `names` (trust.keys) that made a valid signature of the version:
 * what a `require_signatures` gate needs (docs/design.md §11). A name not in trust.keys is
 * a misconfigured policy (UsageError, exit 2).
 */
export function trustedSignersOfVersion(repo: Repository, versionId: string, names: readonly string[]): string[] {
  const trusted = loadTrustedKeys(repo.settings, repo.root, [...new Set(names)]);
  return validSignerNames(checkVersionSignatures(repo.db, repo.store, versionId, versionFiles(repo.db, versionId), trusted));
}

/**
 * Every signature and attestation of a version, checked, for display (show): a trust.keys
 * entry that cannot be read leaves its signatures unchecked instead of failing.
 */
export function describeVersionSignatures(repo: Repository, versionId: string, files: readonly ManifestFile[]): SignatureCheck[] {
  let trusted: TrustedKey[] = [];
  try {
    trusted = loadTrustedKeys(repo.settings, repo.root);
  } catch (err) {
    if (!(err instanceof ModelctlError)) throw err;
  }
  return checkVersionSignatures(repo.db, repo.store, versionId, files, trusted);
}
