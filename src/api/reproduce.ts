import { withRepository, type CommonOptions } from './repository.js';
import { reproduceVersion, type ReproduceRequest, type ReproduceResult } from './reproduce-engine.js';

export type { ReproduceResult, ReproducedData } from './reproduce-engine.js';

export interface ReproduceOptions extends CommonOptions, ReproduceRequest {}

/**
 * `modelctl reproduce <ref>`: rebuilds a version made by `modelctl run` in a temporary git
 * worktree at its recorded commit and reports whether the outputs are bit-identical (with
 * per-file differences, data inputs checked again and metric deltas). The result says
 * `reproduced`; the CLI exits 4 when it is false. Nothing is left behind unless `keep`.
 */
export async function reproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  return withRepository(opts, (repo) => reproduceVersion(repo, opts));
}
