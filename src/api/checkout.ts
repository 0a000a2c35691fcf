import { resolveRef } from '../store/resolve-ref.js';
import { applyCheckout, planCheckout, type CheckoutResult, type CheckoutTarget } from './checkout-engine.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { CheckoutResult } from './checkout-engine.js';

export interface CheckoutOptions extends CommonOptions, CheckoutTarget {
  ref: string;
}

/**
 * Writes a version's files, each verified byte for byte. Before writing anything it
 * checks every target: a file whose content is not any committed file of this repository
 * (a local change) is only overwritten with `force`; otherwise ConflictError (4) lists them.
 */
export async function checkout(opts: CheckoutOptions): Promise<CheckoutResult> {
  return withRepository(opts, (repo) => applyCheckout(repo, planCheckout(repo, resolveRef(repo.db, opts.ref), opts)));
}
