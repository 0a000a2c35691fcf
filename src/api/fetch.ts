import { assertModelName } from '../core/names.js';
import type { FetchResult } from '../sync/fetch.js';
import { withRemoteSession, type RemoteTarget } from '../sync/remote-session.js';
import { summarizeLocalVersions } from './fetched-summaries.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { FetchResult, ModelFetch, RejectedDocument } from '../sync/fetch.js';

export interface FetchOptions extends CommonOptions, RemoteTarget {
  /** One model; default: every model on the remote. */
  model?: string;
  /** Requests in flight (default 8). */
  jobs?: number;
  argv?: string[];
}

/**
 * Brings remote versions' metadata (manifests, numbers), tags, stages and events into the
 * index — no file bytes. Every document is checked; one that fails is skipped and listed in
 * `rejected` while everything valid is still brought (the CLI then exits 6). The remote
 * wins for refs it changed since the last fetch; a local move not yet pushed is then
 * superseded, and the result says so.
 */
export async function fetch(opts: FetchOptions = {}): Promise<FetchResult> {
  if (opts.model) assertModelName(opts.model);
  return withRepository(opts, async (repo) => {
    const result = await withRemoteSession(repo, opts, { create: false }, (session) => session.protocol.fetch(repo, opts));
    await summarizeLocalVersions(repo, result);
    return result;
  });
}
