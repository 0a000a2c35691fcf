import { join } from 'node:path';
import { IntegrityError, NotFoundError } from '../errors.js';
import { getVersion } from '../store/version-records.js';
import { LOCK_FILE_NAME, readLockFile } from '../workspace/lock-file.js';
import type { LinkMode } from '../workspace/materialize.js';
import { applyCheckout, planCheckout, type CheckoutResult } from './checkout-engine.js';
import { fetchLockedVersions, type MissingLocked } from './lock-fetch.js';
import { lockConflictError } from './lock-update.js';
import { readVersionManifest } from './read-manifest.js';
import { withRepository, type CommonOptions } from './repository.js';

export interface RestoreLockOptions extends CommonOptions {
  /** Write into this folder instead of the files' recorded paths in the repository. */
  out?: string;
  link?: LinkMode;
  /** Overwrite files with local changes. */
  force?: boolean;
  /** With `out`: drop this many leading folders of every path. */
  stripComponents?: number;
  /** Remote to fetch missing locked versions from (default: the default remote). */
  remote?: string;
  jobs?: number;
}

export interface RestoreLockResult {
  /** Absolute path of modelctl.lock. */
  lock: string;
  /** One checkout per locked model, in name order. */
  models: CheckoutResult[];
  /** What had to come from a remote; null when everything was here. */
  fetched: { remote: string; versions: string[]; bytesDownloaded: number } | null;
}

/**
 * `modelctl checkout` with no reference (docs/design.md §14): restores every model to the
 * version modelctl.lock names, fetching from the default remote what this repository lacks.
 * Every model's checkout is planned (and refused on local changes, exit 4) before any file is
 * written. No lock → NotFoundError (3); unresolved git conflicts → ConflictError (4); a
 * version nobody has → NotFoundError (3) naming it and the remotes searched; a lock whose
 * file digests disagree with the version it names → IntegrityError (6).
 */
export async function restoreLocked(opts: RestoreLockOptions = {}): Promise<RestoreLockResult> {
  return withRepository(opts, async (repo) => {
    const state = readLockFile(repo.root);
    if (state.kind === 'absent') {
      throw new NotFoundError('NO_LOCK', `there is no ${LOCK_FILE_NAME} in ${repo.root}`, {
        hint: 'name a version (`modelctl checkout fraud@v3`), or create the lock: `modelctl commit <model> --lock` (or "lock": true in modelctl.json)',
      });
    }
    if (state.kind === 'conflicted') throw lockConflictError(state);
    const locked = Object.entries(state.lock.models).sort(([a], [b]) => (a < b ? -1 : 1));
    const missing: MissingLocked[] = [];
    for (const [model, entry] of locked) {
      const known = getVersion(repo.db, entry.version);
      const complete = known && readVersionManifest(repo, entry.version).files.every((f) => repo.store.hasObject(f.digest));
      if (!complete) missing.push({ model, version: entry.version, number: entry.number });
    }
    const fetched = missing.length ? await fetchLockedVersions(repo, missing, opts.remote, opts.jobs) : null;
    const plans = locked.map(([model, entry]) => {
      const row = getVersion(repo.db, entry.version);
      if (!row) throw new Error(`BUG: locked version ${entry.version} not in the index after fetching`);
      if (row.model !== model) {
        throw new IntegrityError('LOCK_MISMATCH', `${LOCK_FILE_NAME} locks '${model}' to ${entry.version.slice(0, 12)}, which is a version of '${row.model}'`, {
          hint: `lock a version of '${model}': \`modelctl checkout ${model}@<ref> --lock\``,
        });
      }
      const plan = planCheckout(repo, row, { out: opts.out, link: opts.link, force: opts.force, stripComponents: opts.stripComponents, verified: fetched?.verified });
      assertLockMatches(model, entry.files, plan.manifest.files);
      return plan;
    });
    const models: CheckoutResult[] = [];
    for (const p of plans) models.push(await applyCheckout(repo, p));
    return {
      lock: join(repo.root, LOCK_FILE_NAME),
      models,
      fetched: fetched && { remote: fetched.remote, versions: fetched.versions, bytesDownloaded: fetched.bytesDownloaded },
    };
  });
}

/** The lock's file digests must be the version's: the id fixes them, so a difference is an edited lock. */
function assertLockMatches(model: string, lockFiles: Record<string, string>, files: readonly { path: string; digest: string }[]): void {
  const differs = files.length !== Object.keys(lockFiles).length || files.some((f) => lockFiles[f.path] !== f.digest);
  if (differs) {
    throw new IntegrityError('LOCK_MISMATCH', `${LOCK_FILE_NAME}: the files listed for '${model}' are not those of the version it names`, {
      hint: `the lock was edited by hand or merged badly; rewrite the entry with \`modelctl checkout ${model}@<ref> --lock\``,
    });
  }
}
