import type { PushRequest, PushResult } from '../sync/push.js';
import { withRemoteSession, type RemoteTarget } from '../sync/remote-session.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { PushResult, SkippedVersion } from '../sync/push.js';
export type { TransferProgress, ProgressListener } from '../sync/transfer-progress.js';

export interface PushOptions extends CommonOptions, PushRequest, RemoteTarget {}

/**
 * Uploads what the remote lacks — chunks, file lists, manifests, then numbers, tags,
 * stages and events (docs/design.md §7) — so no reader sees a reference to something
 * absent. A killed push resumes where it stopped. Tag or stage conflicts end in exit 4
 * after everything else was pushed.
 */
export async function push(opts: PushOptions = {}): Promise<PushResult> {
  return withRepository(opts, (repo) => withRemoteSession(repo, opts, { create: true, probe: true }, (session) => session.protocol.push(repo, opts)));
}
