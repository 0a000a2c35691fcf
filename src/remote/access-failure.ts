import { ModelctlError } from '../errors.js';

/**
 * Codes of the remote failures that are about who is asking, not about the network: no
 * credentials, credentials refused, permission denied (S3 and folder remotes in s3.ts and
 * directory.ts, registries in oci/). Running the same command again fails the same way until
 * the user changes something, so nothing is worth keeping for a retry (README, pull).
 */
const ACCESS_FAILURES = new Set(['REMOTE_NO_CREDENTIALS', 'REMOTE_BAD_CREDENTIALS', 'REMOTE_ACCESS_DENIED', 'REGISTRY_UNAUTHORIZED', 'REGISTRY_DENIED']);

/** True for a credentials or permission failure of a remote. */
export function isAccessFailure(err: unknown): boolean {
  return err instanceof ModelctlError && ACCESS_FAILURES.has(err.code);
}
