import { parseRetention, type RetentionPolicy } from '../core/retention.js';
import { parseDuration } from '../core/time-filter.js';
import { collectRemoteGarbage, type RemoteGcResult } from '../sync/remote-gc.js';
import { storeSessionOf, withRemoteSession } from '../sync/remote-session.js';
import { resolveActor } from '../workspace/identity.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { RemoteGcResult, GcKeptVersion, GcRemovedVersion, ObjectCount } from '../sync/remote-gc.js';

/** The grace period of remote gc when --grace is not given. */
export const DEFAULT_REMOTE_GRACE = '1h';

export interface RemoteGcOptions extends CommonOptions {
  /** A configured remote name or URL. */
  remote: string;
  dryRun?: boolean;
  /** Unreferenced objects younger than this are kept ("1h" default; "0s" when no writer is active). */
  grace?: string;
  jobs?: number;
  argv?: string[];
  /** Asked before deleting (the CLI's prompt); absent: go ahead. */
  confirm?: (plan: RemoteGcResult) => Promise<boolean>;
}

/**
 * Deletes from a remote what the models' retention policies let go and what no reference
 * needs (docs/design.md §16), safely against concurrent pushes. A model with no
 * `retention` keeps every version; dry-run lists what would go and why the rest is kept.
 */
export async function gcRemote(opts: RemoteGcOptions): Promise<RemoteGcResult> {
  const graceMs = parseDuration(opts.grace ?? DEFAULT_REMOTE_GRACE, '--grace', 0);
  return withRepository(opts, async (repo) => {
    const policies = new Map<string, RetentionPolicy>();
    for (const [model, s] of Object.entries(repo.settings.models)) if (s.retention) policies.set(model, parseRetention(model, s.retention, repo.settings.stages));
    const actor = await resolveActor(repo.root);
    // An OCI registry is not a key-value store: remote gc is not offered there (OCI_REMOTE_UNSUPPORTED).
    return withRemoteSession(repo, { remote: opts.remote }, { create: false, probe: true }, (session) =>
      collectRemoteGarbage(repo, storeSessionOf(session, '`gc --remote`'), { policies, graceMs, dryRun: !!opts.dryRun, jobs: opts.jobs, actor, argv: opts.argv ?? [], confirm: opts.confirm }),
    );
  });
}
