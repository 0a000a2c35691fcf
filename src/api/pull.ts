import { resolve } from 'node:path';
import { parseRef } from '../core/refs.js';
import { downloadObjects, type DownloadStats } from '../sync/download-objects.js';
import { fetchInto, resolveFetchedRef } from '../sync/fetch.js';
import { withRemoteSession, type RemoteTarget } from '../sync/remote-session.js';
import { jobsOrDefault, type ProgressListener } from '../sync/transfer-progress.js';
import { isInRepository } from '../workspace/repo-paths.js';
import type { Repository } from '../workspace/repository.js';
import { applyCheckout, planCheckout, type CheckoutResult, type CheckoutTarget } from './checkout-engine.js';
import { updateLock, type LockUpdate } from './lock-update.js';
import { pullOutsideRepository } from './pull-outside-repository.js';
import { withRepository, type CommonOptions } from './repository.js';
import { ensureTensorSummaries } from './tensor-summary-step.js';
import type { VersionSummary } from './views.js';

export { PULL_STORE_DIR } from './pull-outside-repository.js';

export interface PullOptions extends CommonOptions, RemoteTarget, Omit<CheckoutTarget, 'verified'> {
  ref: string;
  jobs?: number;
  onProgress?: ProgressListener;
  /** Record the version in modelctl.lock (default: the `lock` setting); never with --out. */
  lock?: boolean;
}

export interface PullResult extends Pick<CheckoutResult, 'files' | 'removed'> {
  remote: string;
  version: VersionSummary;
  outDir: string;
  download: DownloadStats;
  /** False when pulled with no repository (a throwaway store was used and removed). */
  repository: boolean;
  /** What was written into modelctl.lock (null: not asked to, or pulled into --out). */
  lock: LockUpdate | null;
  warnings: string[];
}

/**
 * Fetches the model's metadata, resolves the reference, downloads only what the target
 * folder and the store lack (verifying every chunk and file), then places the files through
 * the checkout engine; files already there with the right bytes stay. With no repository and
 * a remote URL (CI), a throwaway store inside --out is used and removed at the end; killed
 * midway by the network, it stays, so running the same pull again resumes.
 */
export async function pull(opts: PullOptions): Promise<PullResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  if (isInRepository(cwd, opts.env)) return withRepository(opts, (repo) => pullInto(repo, opts, true));
  return pullOutsideRepository(opts, cwd, (repo, remote, out) => pullInto(repo, { ...opts, remote, out, link: opts.link ?? 'move' }, false));
}

async function pullInto(repo: Repository, opts: PullOptions, repository: boolean): Promise<PullResult> {
  return withRemoteSession(repo, opts, { create: false }, async (session) => {
    const fetched = await fetchInto(repo, session, { model: parseRef(opts.ref).model, jobs: opts.jobs });
    const v = resolveFetchedRef(repo, opts.ref, fetched);
    const plan = planCheckout(repo, v, opts);
    const files = plan.steps.filter((s) => s.write).map((s) => s.file);
    const { stats, verified } = await downloadObjects(repo, session.remote, files, jobsOrDefault(opts.jobs), opts.onProgress);
    ensureTensorSummaries(repo, v.id, plan.manifest.files);
    const placed = applyCheckout(repo, { ...plan, verified });
    const lock = repository && !opts.out ? updateLock(repo, opts.lock, [v.id]) : null;
    const warnings = [...fetched.warnings, ...fetched.rejected.map((r) => `skipped ${r.key} on the remote: ${r.reason}`)];
    return { remote: session.displayUrl, ...placed, download: stats, repository, lock, warnings };
  });
}
