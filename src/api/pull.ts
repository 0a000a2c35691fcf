import { resolve } from 'node:path';
import { parseRef } from '../core/refs.js';
import { IntegrityError, ModelctlError } from '../errors.js';
import { registrySignatureHint } from '../sync/oci/oci-signatures.js';
import type { DownloadStats } from '../sync/download-objects.js';
import { withRemoteSession, type RemoteTarget } from '../sync/remote-session.js';
import { jobsOrDefault, type ProgressListener } from '../sync/transfer-progress.js';
import { isInRepository } from '../workspace/repo-paths.js';
import type { Repository } from '../workspace/repository.js';
import { folderSettings } from '../workspace/trusted-keys.js';
import { applyCheckout, planCheckout, type CheckoutResult, type CheckoutTarget } from './checkout-engine.js';
import { assertLockReadable, updateLock, type LockUpdate } from './lock-update.js';
import { pullOutsideRepository } from './pull-outside-repository.js';
import { pullSignatureGate, signaturePolicy, type PulledSignatures, type SignaturePolicy } from './pull-signatures.js';
import { withRepository, type CommonOptions } from './repository.js';
import { storeReusedFiles } from './store-reused-files.js';
import { summarizeLocalVersions } from './fetched-summaries.js';
import { ensureTensorSummaries } from './tensor-summary-step.js';
import type { VersionSummary } from './views.js';

export interface PullOptions extends CommonOptions, RemoteTarget, Omit<CheckoutTarget, 'verified'> {
  ref: string;
  jobs?: number;
  onProgress?: ProgressListener;
  /** Record the version in modelctl.lock (default: the `lock` setting); never with --out. */
  lock?: boolean;
  /** Keys that must have signed the version (trust.keys names or PEM files), on top of what the policy requires. */
  signedBy?: string[];
}

export interface PullResult extends Pick<CheckoutResult, 'files' | 'removed'>, PulledSignatures {
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
 * Fetches the model's metadata, resolves the reference, downloads only what the target and
 * the store lack (every chunk and file verified), checks the signatures the policy requires,
 * then places the files through the checkout engine (files already right stay). With no
 * repository and a remote URL (CI), a throwaway store inside --out is used (docs/design.md §7).
 */
export async function pull(opts: PullOptions): Promise<PullResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  if (isInRepository(cwd, opts.env)) return withRepository(opts, (repo) => pullInto(repo, opts, true, signaturePolicy(repo.settings, repo.root, cwd, opts.signedBy)));
  // No repository: a modelctl.json here (a deploy job in a checkout of the training
  // repository) still says which keys must have signed what.
  const policy = signaturePolicy(await folderSettings(cwd, opts.env), cwd, cwd, opts.signedBy);
  return pullOutsideRepository(opts, cwd, (repo, remote, out) => pullInto(repo, { ...opts, remote, out, link: opts.link ?? 'move' }, false, policy));
}

async function pullInto(repo: Repository, opts: PullOptions, repository: boolean, policy: SignaturePolicy): Promise<PullResult> {
  if (repository && !opts.out) assertLockReadable(repo, opts.lock);
  return withRemoteSession(repo, opts, { create: false }, async (session) => {
    const fetched = await session.protocol.fetch(repo, { model: parseRef(opts.ref).model, jobs: opts.jobs });
    const v = await session.protocol.resolveForPull(repo, opts.ref, fetched, { jobs: opts.jobs, onProgress: opts.onProgress });
    const plan = planCheckout(repo, v, opts);
    const files = plan.steps.filter((s) => s.write).map((s) => s.file);
    const { stats, verified } = await session.protocol.download(repo, v.id, files, jobsOrDefault(opts.jobs), opts.onProgress);
    // Files already in place are not downloaded; in a repository their bytes still go into
    // the store, so the version is complete here (a throwaway store would only be removed).
    if (repository) storeReusedFiles(repo, plan);
    ensureTensorSummaries(repo, v.id, plan.manifest.files);
    if (repository) await summarizeLocalVersions(repo, fetched);
    const gate = pullSignatureGate(repo, v, policy);
    try {
      gate.check(plan);
    } catch (err) {
      // "Sign it and push it" cannot help where the remote carries no signatures at all.
      if (session.kind === 'oci' && err instanceof ModelctlError && err.code === 'SIGNATURE_MISSING') {
        throw new IntegrityError(err.code, err.message, { hint: registrySignatureHint(session.displayUrl), data: err.data, cause: err });
      }
      throw err;
    }
    const placed = await applyCheckout(repo, { ...plan, verified });
    const deployed = gate.deploy(placed, plan.manifest.files, opts);
    const lock = repository && !opts.out ? updateLock(repo, opts.lock, [v.id]) : null;
    const warnings = [...fetched.warnings, ...fetched.rejected.map((r) => `skipped ${r.key} on the remote: ${r.reason}`), ...deployed.warnings];
    return { remote: session.displayUrl, ...placed, download: stats, repository, lock, verifiedSignatures: gate.keyNames, signature: deployed.signature, warnings };
  });
}
