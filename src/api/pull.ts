import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_SIGNATURE_FILE } from '../signing/oms-statement.js';
import { parseRef } from '../core/refs.js';
import type { DownloadStats } from '../sync/download-objects.js';
import { withRemoteSession, type RemoteTarget } from '../sync/remote-session.js';
import { jobsOrDefault, type ProgressListener } from '../sync/transfer-progress.js';
import { isInRepository } from '../workspace/repo-paths.js';
import type { Repository } from '../workspace/repository.js';
import type { Settings } from '../workspace/config.js';
import { folderSettings, keysFromArguments } from '../workspace/trusted-keys.js';
import { pullSignatureKeys, verifyBeforePlacing, writeDeployedSignature, type DeployedSignature } from '../sync/signature-gate.js';
import { stagesOfVersion } from '../store/version-records.js';
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
  /** Keys that must have signed the version (trust.keys names or PEM files), on top of what the policy requires. */
  signedBy?: string[];
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
  /** Keys whose valid signatures were checked before anything was placed (docs/design.md §11). */
  verifiedSignatures: string[];
  /** The model.sig written beside the files (--out), or null. */
  signature: DeployedSignature | null;
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
  if (isInRepository(cwd, opts.env)) return withRepository(opts, (repo) => pullInto(repo, opts, true, { settings: repo.settings, root: repo.root, cwd }));
  // No repository: a modelctl.json here (a deploy job in a checkout of the training
  // repository) still says which keys must have signed what.
  const settings = await folderSettings(cwd, opts.env);
  return pullOutsideRepository(opts, cwd, (repo, remote, out) => pullInto(repo, { ...opts, remote, out, link: opts.link ?? 'move' }, false, { settings, root: cwd, cwd }));
}

/** Where a pull's signature policy comes from: the repository's settings, or a folder's modelctl.json (or none). */
interface SignaturePolicy {
  settings: Settings | null;
  root: string;
  cwd: string;
}

async function pullInto(repo: Repository, opts: PullOptions, repository: boolean, policy: SignaturePolicy): Promise<PullResult> {
  const extraKeys = keysFromArguments(opts.signedBy ?? [], policy.settings, policy.root, policy.cwd);
  return withRemoteSession(repo, opts, { create: false }, async (session) => {
    const fetched = await session.protocol.fetch(repo, { model: parseRef(opts.ref).model, jobs: opts.jobs });
    const v = await session.protocol.resolveForPull(repo, opts.ref, fetched, { jobs: opts.jobs, onProgress: opts.onProgress });
    const plan = planCheckout(repo, v, opts);
    const files = plan.steps.filter((s) => s.write).map((s) => s.file);
    const { stats, verified } = await session.protocol.download(repo, v.id, files, jobsOrDefault(opts.jobs), opts.onProgress);
    ensureTensorSummaries(repo, v.id, plan.manifest.files);
    // The signature gate: every required key must have signed exactly these bytes before
    // anything is placed (exit 6 otherwise, the target untouched).
    const keys = policy.settings ? pullSignatureKeys(policy.settings, policy.root, v.model, stagesOfVersion(repo.db, v.id), extraKeys) : extraKeys;
    const kept = new Map(plan.steps.filter((st) => !st.write).map((st) => [st.file.path, st.dest]));
    const checks = keys.length ? verifyBeforePlacing(repo.db, repo.store, v, plan.manifest.files, keys, (f) => kept.get(f.path) ?? null) : [];
    const placed = applyCheckout(repo, { ...plan, verified });
    // Under their recorded paths, the folder verifies with model_signing as it is.
    const signature = opts.out && !opts.stripComponents ? writeDeployedSignature(repo.db, v.id, plan.manifest.files, placed.outDir, checks, keys) : null;
    const lock = repository && !opts.out ? updateLock(repo, opts.lock, [v.id]) : null;
    const warnings = [...fetched.warnings, ...fetched.rejected.map((r) => `skipped ${r.key} on the remote: ${r.reason}`)];
    if (opts.out && !signature && existsSync(join(placed.outDir, DEFAULT_SIGNATURE_FILE))) {
      warnings.push(`${join(placed.outDir, DEFAULT_SIGNATURE_FILE)} is not a signature of ${v.model}@v${v.number} (it has none modelctl can place there); remove it before verifying the folder`);
    }
    return { remote: session.displayUrl, ...placed, download: stats, repository, lock, verifiedSignatures: keys.map((k) => k.name), signature, warnings };
  });
}
