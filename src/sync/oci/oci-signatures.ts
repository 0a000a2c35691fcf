import type { Database } from '../../store/index-db.js';
import { signaturesOfVersion } from '../../store/signatures-table.js';
import { getVersion } from '../../store/version-records.js';

/**
 * A registry carries no modelctl signatures or attestations (docs/design.md §13 maps
 * versions, tags, stages and events only): what push and pull say about it, so a signed
 * release pushed there is not mistaken for one a deploy job can check.
 */

/** The warning of a push to `displayUrl` whose versions have signatures or attestations, or null. */
export function signaturesLeftBehind(db: Database, versionIds: readonly string[], displayUrl: string): string | null {
  const signed: string[] = [];
  for (const id of versionIds) {
    if (!signaturesOfVersion(db, id).length) continue;
    const v = getVersion(db, id);
    if (v) signed.push(`${v.model}@v${v.number}`);
  }
  if (!signed.length) return null;
  return `the signatures and attestations of ${signed.join(', ')} stay in this repository: ${displayUrl} is an OCI registry, which carries none, so \`pull --signed-by\` (or a require_signatures policy) from it refuses these versions; push signed releases to an S3 or folder remote for deploy jobs that check signatures`;
}

/** The hint of a pull from a registry refused for a missing signature. */
export function registrySignatureHint(displayUrl: string): string {
  return `${displayUrl} is an OCI registry, which carries no modelctl signatures: pull from an S3 or folder remote that the signed version was pushed to, or check the placed folder with \`modelctl verify-signature\` against a model.sig delivered another way`;
}
