import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ConflictError, fsError, isErrnoException } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import { materializeFile, type LinkMode } from './materialize.js';

/**
 * Where `modelctl watch --out <dir>` places versions (docs/design.md §12). Each version is
 * written complete into its own folder under `versionsDir` (`v<N>-<short id>`, built under a
 * temporary name and renamed when whole), then `out` is switched to it:
 *
 * - `symlink` (default): `out` is a symbolic link; a new link is made beside it and renamed
 *   over it, so a reader sees the old version or the new one, never a mix or nothing;
 * - `rename`: `out` is a real folder; the old one is renamed away and the new one into place
 *   (for readers that do not follow links; `out` is absent for the instant between the renames).
 *
 * The folder of the version before stays until the next switch (quick rollback, and files a
 * server still has open stay whole); older ones are removed.
 */

export type PlaceMode = 'symlink' | 'rename';

/** The places of one watched target. */
export interface DeployLayout {
  out: string;
  versionsDir: string;
  mode: PlaceMode;
}

/** What a switch did, so a failed deploy hook can be undone. */
export interface SwitchRecord {
  /** The folder `out` shows now (the version folder; in rename mode `out` itself). */
  shown: string;
  /** The version folder's name. */
  name: string;
  /** The name of the folder `out` showed before (null when `out` was absent). */
  previousName: string | null;
}

const VERSION_FOLDER = /^v\d+-[0-9a-f]{12}$/;

/** The folder name of a version: `v<N>-<first 12 hex of its id>`. */
export function versionFolderName(number: number, id: string): string {
  return `v${number}-${id.slice(0, 12)}`;
}

/**
 * Checks that `out` can be managed: absent, or (symlink mode) a symbolic link, or (rename mode)
 * a folder that is empty or that watch placed itself (`placedByWatch`, from its state): a user's
 * folder would be renamed away into the state folder (README "Watch: deploy on stage change").
 * Anything else is a ConflictError (4): it is never replaced.
 */
export function checkDeployTarget(layout: DeployLayout, placedByWatch: boolean): void {
  let st;
  try {
    st = lstatSync(layout.out);
  } catch (err) {
    if (isErrnoException(err, 'ENOENT')) return;
    throw fsError(err, layout.out);
  }
  const fits = layout.mode === 'symlink' ? st.isSymbolicLink() : st.isDirectory();
  if (!fits) {
    throw new ConflictError('OUT_IN_THE_WAY', `${layout.out} exists and is not a ${layout.mode === 'symlink' ? 'symbolic link' : 'folder'} that watch can switch`, {
      hint: layout.mode === 'symlink' ? 'move it away (watch makes --out a link to the version it places), or use --place rename to keep a real folder' : 'move it away, or use --place symlink',
    });
  }
  if (layout.mode === 'rename' && !placedByWatch && !isEmptyFolder(layout.out)) {
    throw new ConflictError('OUT_IN_THE_WAY', `${layout.out} exists and is not a folder that watch placed (it is not empty)`, {
      hint: 'move it away, or give --out a new or empty folder (watch puts each version there whole and moves the one before into its state folder)',
    });
  }
}

function isEmptyFolder(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    throw fsError(err, dir);
  }
}

/**
 * Writes `files` into a fresh folder `versionsDir/<name>` (temporary name first, renamed when
 * complete, so a crash never leaves a partial folder under the final name). Each file is
 * verified as it is written unless its digest is in `verified` (just downloaded and checked).
 * An existing complete folder of that name is reused (a rollback to a kept version).
 */
export function buildVersionFolder(
  layout: DeployLayout,
  name: string,
  files: readonly ManifestFile[],
  objectPathOf: (digest: string) => string,
  link: LinkMode,
  verified: ReadonlySet<string>,
): string {
  const final = join(layout.versionsDir, name);
  if (existsSync(final)) return final;
  const tmp = join(layout.versionsDir, `.${name}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    for (const f of files) {
      // Manifest paths are validated on read (no '..', no absolute path), and tmp is new and ours.
      const dest = join(tmp, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      materializeFile(objectPathOf(f.digest), dest, dirname(dest), f.digest, f.mode, link, verified.has(f.digest));
    }
    renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return final;
}

/** Switches `out` to the version folder `name` (see the module comment). `currentName` is what `out` shows now. */
export function switchTo(layout: DeployLayout, name: string, currentName: string | null): SwitchRecord {
  const folder = join(layout.versionsDir, name);
  if (layout.mode === 'symlink') {
    const link = join(dirname(layout.out), `.${basename(layout.out)}.switch-${process.pid}`);
    rmSync(link, { force: true });
    symlinkSync(relative(dirname(layout.out), folder), link);
    renameSync(link, layout.out);
    return { shown: folder, name, previousName: currentName };
  }
  let previousName: string | null = null;
  if (existsSync(layout.out)) {
    previousName = currentName ?? `unknown-${Date.now()}`;
    renameSync(layout.out, join(layout.versionsDir, previousName));
  }
  renameSync(folder, layout.out);
  return { shown: layout.out, name, previousName };
}

/** Puts `out` back on what it showed before `record` (a deploy hook failed). */
export function undoSwitch(layout: DeployLayout, record: SwitchRecord): void {
  if (layout.mode === 'symlink') {
    if (record.previousName) switchTo(layout, record.previousName, null);
    else rmSync(layout.out, { force: true });
    return;
  }
  renameSync(layout.out, join(layout.versionsDir, record.name));
  if (record.previousName) renameSync(join(layout.versionsDir, record.previousName), layout.out);
}

/** Removes version folders other than `keep` (and partial folders of dead runs). */
export function pruneVersionFolders(layout: DeployLayout, keep: readonly (string | null)[]): string[] {
  let names: string[];
  try {
    names = readdirSync(layout.versionsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const partial = /^\.(v\d+-[0-9a-f]{12})\.partial-(\d+)$/.exec(n);
    const stale = partial ? Number(partial[2]) !== process.pid : VERSION_FOLDER.test(n) && !keep.includes(n);
    if (stale) {
      rmSync(join(layout.versionsDir, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  return removed;
}

/** Removes a version folder that was built but not switched to. */
export function removeVersionFolder(layout: DeployLayout, name: string): void {
  rmSync(join(layout.versionsDir, name), { recursive: true, force: true });
}
