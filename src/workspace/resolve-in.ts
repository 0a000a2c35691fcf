import type { ParsedRef } from '../core/refs.js';
import { resolveRef } from '../store/resolve-ref.js';
import type { VersionRow } from '../store/version-records.js';
import type { Repository } from './repository.js';

/**
 * A reference resolved in an open repository: resolveRef with the repository's configured
 * stages, so `m@production` before anything was promoted says the stage is empty rather
 * than that the name is unknown (docs/design.md §2).
 */
export function resolveIn(repo: Repository, ref: string | ParsedRef): VersionRow {
  return resolveRef(repo.db, ref, { stages: repo.settings.stages });
}
