import { assertModelName } from '../core/names.js';
import { requireModel } from '../store/resolve-ref.js';
import { listModelNames } from '../store/version-records.js';
import { LOCK_FILE_NAME } from '../workspace/lock-file-name.js';
import type { SpecialEntry } from '../workspace/file-selection.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LockStatus } from './lock-status.js';
import { withRepository, type CommonOptions } from './repository.js';
import { modelStatus } from './status-engine.js';
import type { VersionSummary } from './views.js';

export interface StatusOptions extends CommonOptions {
  /** One model; default: every model in the index or modelctl.json. */
  model?: string;
}

export interface ModelStatus {
  model: string;
  /** The version the files are compared with: the one checked out (or committed) here, else the latest. */
  version: VersionSummary | null;
  /** The version the work tree holds by modelctl's placement record (docs/design.md §10); null when none is recorded. */
  checkedOut: VersionSummary | null;
  /** The model's highest-numbered version. */
  latest: VersionSummary | null;
  /** Files whose content differs from `version`. */
  modified: { path: string; size: number; committedSize: number }[];
  /** Files matched by the model's paths that `version` does not have. */
  added: { path: string; size: number }[];
  /** Files of `version` that are gone from the folder. */
  deleted: { path: string; committedSize: number }[];
  /**
   * Tracked paths that are not regular files now — a FIFO, socket or device, or a broken
   * link — and so are neither read nor committed (commit refuses them, naming each).
   */
  notRegular: { path: string; kind: SpecialEntry['kind'] | 'folder' }[];
  unchanged: number;
  clean: boolean;
  /** Files whose bytes had to be read (the stat cache answered for the rest). */
  rehashed: number;
}

export interface StatusResult {
  models: ModelStatus[];
  clean: boolean;
  /** The workspace against modelctl.lock; null when there is no lock. */
  lock: LockStatus | null;
}

/**
 * Compares each model's tracked files with the version the work tree holds (the one last
 * checked out or committed here, by the placement record; the latest when none is
 * recorded). Files whose stat is
 * unchanged since they were last hashed are not read again.
 */
export async function status(opts: StatusOptions = {}): Promise<StatusResult> {
  if (opts.model) assertModelName(opts.model);
  return withRepository(opts, async (repo) => {
    let names: string[];
    if (opts.model) {
      if (!repo.settings.models[opts.model]) requireModel(repo.db, opts.model);
      names = [opts.model];
    } else {
      names = [...new Set([...listModelNames(repo.db), ...Object.keys(repo.settings.models)])].sort();
    }
    const models: ModelStatus[] = [];
    for (const name of names) models.push(await modelStatus(repo, name));
    // modelctl.lock is a file people and git edit: reading it validates it (zod), so its
    // reader is loaded only when there is one (a status without a lock starts without zod).
    const lock = existsSync(join(repo.root, LOCK_FILE_NAME)) ? (await import('./lock-status.js')).lockStatus(repo, opts.model) : null;
    return { models, clean: models.every((m) => m.clean), lock };
  });
}
