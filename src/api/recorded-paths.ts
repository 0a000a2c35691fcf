import { join } from 'node:path';
import { selectFiles } from '../workspace/file-selection.js';
import type { RecordedPaths } from '../workspace/git-state.js';
import { LOCK_FILE_NAME } from '../workspace/lock-file-name.js';
import type { Repository } from './repository.js';

/**
 * What a version records itself, by digest or by value, beside what modelctl writes in the
 * work tree (its store, modelctl.lock): the paths whose git status does not make the code
 * lineage dirty (README, "Lineage recorded by `commit`"). All absolute.
 */
export function recordedPaths(repo: Repository, parts: { files: readonly string[]; metrics: string | null; data: readonly string[] }): RecordedPaths {
  return [...parts.files, ...(parts.metrics ? [parts.metrics] : []), ...parts.data, repo.metaDir, join(repo.root, LOCK_FILE_NAME)];
}

/**
 * The files `patterns` (relative to the root) select now, before `run` starts its command: the
 * outputs of the last run, which this one will write again. A pattern that selects nothing
 * yet, or that commit would refuse, adds nothing: the commit after the run selects again and
 * says what is wrong.
 */
export async function existingOutputs(repo: Repository, patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of patterns) {
    try {
      for (const f of await selectFiles(repo.root, repo.root, [pattern])) out.push(f.abs);
    } catch {
      // not written yet (the first run), or not committable: see above
    }
  }
  return out;
}
