import { versionTensorTotals, type TensorTotals } from '../store/tensor-summaries.js';
import { listModelNames, latestVersion } from '../store/version-records.js';
import { withReadRepository, type ReadTarget } from './remote-read.js';
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

/** Every model with its latest version, stage holders and size (of the repository, or of `opts.remote` read now). */
export async function ls(opts: ReadTarget = {}): Promise<LsResult> {
  return withReadRepository(opts, undefined, (repo) => {
    const countStmt = repo.db.prepare('SELECT COUNT(*) AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ?');
    const stageStmt = repo.db.prepare(
      'SELECT s.stage, v.number, v.id FROM stages s JOIN models m ON m.id = s.model_id JOIN versions v ON v.id = s.version_id WHERE m.name = ? ORDER BY s.stage',
    );
    const models = listModelNames(repo.db).map((name) => {
      const latest = latestVersion(repo.db, name);
      return {
        name,
        versions: (countStmt.get(name) as { n: number }).n,
        latest: latest ? summarizeVersion(repo.db, latest) : null,
        stages: Object.fromEntries((stageStmt.all(name) as { stage: string; number: number; id: string }[]).map((r) => [r.stage, { number: r.number, id: r.id }])),
        latestSize: latest?.totalSize ?? 0,
        latestParameters: latest ? versionTensorTotals(repo.db, latest.id) : null,
      };
    });
    return { models, stageOrder: repo.settings.stages };
  });
}
