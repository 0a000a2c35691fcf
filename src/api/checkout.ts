import { applyCheckout, planCheckout, type CheckoutResult, type CheckoutTarget } from './checkout-engine.js';
import { assertLockReadable, updateLock, type LockUpdate } from './lock-update.js';
import { withRepository, type CommonOptions } from './repository.js';
import { resolveIn } from '../workspace/resolve-in.js';

export type { CheckoutConflict, CheckoutConflictReason, CheckoutResult } from './checkout-engine.js';

/** A checkout's result, with what it wrote into modelctl.lock. */
export type CheckoutWithLock = CheckoutResult & { lock: LockUpdate | null };

export interface CheckoutOptions extends CommonOptions, CheckoutTarget {
  ref: string;
  /** Record the version in modelctl.lock (default: the `lock` setting); never for checkouts into --out. */
  lock?: boolean;
}

/**
 * Makes the model's files in the target exactly the version's (docs/design.md §10): writes
 * each file, verified byte for byte, and removes the files of the version the target held
 * before that this one lacks. A changed or unknown file in the way is only overwritten or
 * removed with `force`; otherwise ConflictError (4) lists each path before anything changes.
 */
export async function checkout(opts: CheckoutOptions): Promise<CheckoutWithLock> {
  return withRepository(opts, async (repo) => {
    if (!opts.out) assertLockReadable(repo, opts.lock);
    const result = await applyCheckout(repo, planCheckout(repo, resolveIn(repo, opts.ref), opts));
    return { ...result, lock: opts.out ? null : updateLock(repo, opts.lock, [result.version.id]) };
  });
}
