import { withRepository, type CommonOptions } from './repository.js';
import { runAndCommit, type RunRequest, type RunResult } from './run-engine.js';

export type { RunResult } from './run-engine.js';

export interface RunOptions extends CommonOptions, RunRequest {}

/**
 * `modelctl run`: runs a training command and, when it exits 0, commits the model's declared
 * outputs as a new version whose lineage records the run (docs/design.md §14). A failing
 * command commits nothing and CommandFailedError carries its exit code; SIGINT/SIGTERM reach
 * the command, then InterruptedError (130).
 */
export async function run(opts: RunOptions): Promise<RunResult> {
  return withRepository(opts, (repo) => runAndCommit(repo, opts));
}
