import pLimit from 'p-limit';
import { readAuditTrailLock, type AuditTrailLock } from '../sync/audit-lock.js';
import { storeSessionOf, withRemoteSession } from '../sync/remote-session.js';
import { jobsOrDefault } from '../sync/transfer-progress.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { AuditTrailLock } from '../sync/audit-lock.js';

export interface AuditTrailLockOptions extends CommonOptions {
  remote: string;
  model?: string;
}

/**
 * Whether the remote's audit events are under a write-once lock (S3 Object Lock,
 * compliance mode) and until when; on a store without one, says so (`supported: false`).
 */
export async function auditTrailLock(opts: AuditTrailLockOptions): Promise<AuditTrailLock> {
  return withRepository(opts, (repo) => withRemoteSession(repo, { remote: opts.remote }, { create: false }, (session) => readAuditTrailLock(storeSessionOf(session, 'the audit trail lock'), pLimit(jobsOrDefault(undefined)), opts.model)));
}
