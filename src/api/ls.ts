import { versionTensorTotals, type TensorTotals } from '../store/tensor-summaries.js';
import { stageHoldersOf } from '../store/stages-table.js';
import { listModelNames, latestVersion, versionCount } from '../store/version-records.js';
import { withReadRepository, type ReadTarget } from './remote-read.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';

export interface ModelListing {
  name: string;
  versions: number;
  latest: VersionSummary | null;
  /** Stage name → `{ number, id }` of its holder. */
  stages: Record<string, { number: number; id: string }>;
  /** Bytes of the latest version's files. */
  latestSize: number;
  /** Parameters, tensors and dtypes of the latest version's model files; null when it holds none. */
  latestParameters: TensorTotals | null;
}

export interface LsResult {
  models: ModelListing[];
  /** Configured stage order, so renderers can show columns in it. */
  stageOrder: string[];
}

/** Options of ls: with `remote`, what that remote holds (read-only, no repository needed). */
export interface LsOptions extends ReadTarget {}

/** Every model with its latest version, stage holders and size (of the repository, or of `opts.remote` read now). */
export async function ls(opts: LsOptions = {}): Promise<LsResult> {
  return withReadRepository(opts, undefined, listModels);
}

function listModels(repo: Repository): LsResult {
  const models = listModelNames(repo.db).map((name) => {
    const latest = latestVersion(repo.db, name);
    return {
      name,
      versions: versionCount(repo.db, name),
      latest: latest ? summarizeVersion(repo.db, latest) : null,
      stages: Object.fromEntries(stageHoldersOf(repo.db, name).map((r) => [r.stage, { number: r.number, id: r.id }])),
      latestSize: latest?.totalSize ?? 0,
      latestParameters: latest ? versionTensorTotals(repo.db, latest.id) : null,
    };
  });
  return { models, stageOrder: repo.settings.stages };
}
