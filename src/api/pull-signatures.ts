import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SIGNATURE_FILE } from '../signing/oms-statement.js';
import type { SignatureCheck } from '../signing/version-signatures.js';
import { stagesOfVersion, type VersionRow } from '../store/version-records.js';
import { pullSignatureKeys, verifyBeforePlacing, writeDeployedSignature, type DeployedSignature } from '../sync/signature-gate.js';
import type { Settings } from '../workspace/config.js';
import type { Repository } from '../workspace/repository.js';
import type { TrustedKey } from '../signing/trust.js';
import { keysFromArguments } from '../workspace/trusted-keys.js';
import type { CheckoutPlan, CheckoutResult } from './checkout-engine.js';

/** What a pull's signatures are checked against: the repository's settings, or a folder's modelctl.json (or none), and --signed-by. */
export interface SignaturePolicy {
  settings: Settings | null;
  root: string;
  /** The keys named by --signed-by, on top of what the settings require. */
  extra: TrustedKey[];
}

/** The policy of a pull: `signedBy` (trust.keys names or PEM files) is read now, so a bad key fails before any download. */
export function signaturePolicy(settings: Settings | null, root: string, cwd: string, signedBy: readonly string[] = []): SignaturePolicy {
  return { settings, root, extra: keysFromArguments(signedBy, settings, root, cwd) };
}

/** The signature gate of one pull (docs/design.md §11): checked before placing, model.sig written after. */
export interface PullSignatureGate {
  /** Names of the keys whose valid signatures were required. */
  keyNames: string[];
  /** Every required key must have signed exactly the bytes to place (exit 6 otherwise, the target untouched). */
  check(plan: CheckoutPlan): void;
  /** After placing into --out under the recorded paths: the model.sig beside the files, and a warning for a stale one there. */
  deploy(placed: CheckoutResult, files: CheckoutPlan['manifest']['files'], opts: { out?: string; stripComponents?: number }): { signature: DeployedSignature | null; warnings: string[] };
}

/** What a pull reports of its signature gate (part of its --json). */
export interface PulledSignatures {
  /** Keys whose valid signatures were checked before anything was placed (docs/design.md §11). */
  verifiedSignatures: string[];
  /** The model.sig written beside the files (--out), or null. */
  signature: DeployedSignature | null;
}

/** The gate for pulling version `v`: the keys the policy requires for its model and stages, plus --signed-by's. */
export function pullSignatureGate(repo: Repository, v: VersionRow, policy: SignaturePolicy): PullSignatureGate {
  const keys = policy.settings ? pullSignatureKeys(policy.settings, policy.root, v.model, stagesOfVersion(repo.db, v.id), policy.extra) : [...policy.extra];
  let checks: SignatureCheck[] = [];
  return {
    keyNames: keys.map((k) => k.name),
    check(plan) {
      // A file left in place is checked where it is (its bytes are not in the store).
      const kept = new Map(plan.steps.filter((st) => !st.write).map((st) => [st.file.path, st.dest]));
      checks = keys.length ? verifyBeforePlacing(repo.db, repo.store, v, plan.manifest.files, keys, (f) => kept.get(f.path) ?? null) : [];
    },
    deploy(placed, files, opts) {
      // Under their recorded paths, the folder verifies with model_signing as it is.
      const signature = opts.out && !opts.stripComponents ? writeDeployedSignature(repo.db, v.id, files, placed.outDir, checks, keys) : null;
      const stale = join(placed.outDir, DEFAULT_SIGNATURE_FILE);
      const warnings = opts.out && !signature && existsSync(stale) ? [`${stale} is not a signature of ${v.model}@v${v.number} (it has none modelctl can place there); remove it before verifying the folder`] : [];
      return { signature, warnings };
    },
  };
}
