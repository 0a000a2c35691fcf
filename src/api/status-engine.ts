/**
 * What status finds for one model (api/status.ts is the verb): the version the work tree is
 * compared with, what the model's paths select now, and each file of that version checked
 * against the stat cache, in one pass over the version's files and their cache rows; only
 * files the cache cannot answer for are read (file-hashing.ts).
 */
import { NotFoundError } from '../errors.js';
import { getVersion, latestVersion, type VersionRow } from '../store/version-records.js';
import { forEachVersionFileWithStatCache, type VersionFileCacheRow } from '../store/stat-cache-table.js';
import { writeTransaction } from '../store/index-db.js';
import { selectFiles, type SelectedFile, type SpecialEntry } from '../workspace/file-selection.js';
import { workTreePlacedVersion } from '../workspace/placed-version.js';
import { cachedFolderFiles, sameStatKey, snapshotFolder, storeFolderFiles, tryStatKey, type FileStatKey, type FolderSnapshot } from '../workspace/stat-cache.js';
import { resolve, sep } from 'node:path';
import type { Repository } from './repository.js';
import type { ModelStatus } from './status.js';
import { summarizeVersion } from './views.js';

/** Glob characters, as selectFiles reads them: a pattern with none is a plain path. */
const GLOB_CHARS = /[*?[\]{}!]/;

/**
 * Adds to `tracked` (repository-relative path → absolute path) what one of the model's
 * patterns selects now. A plain folder's listing comes from the folder-listing cache while
 * no folder under it has changed; otherwise selectFiles walks it, and the result is queued
 * in `listings` to be cached (with a snapshot of the folders taken before the walk, so a
 * change during the walk makes the entry stale, not wrong).
 */
async function selectPattern(
  repo: Repository,
  pattern: string,
  tracked: Map<string, string>,
  listings: { folder: string; snapshot: FolderSnapshot; files: SelectedFile[] }[],
  special: (e: SpecialEntry) => void,
): Promise<void> {
  const folder = resolve(repo.root, pattern);
  const plainFolder = !GLOB_CHARS.test(pattern) && tryStatKey(folder)?.isFile === false;
  if (plainFolder) {
    const cached = cachedFolderFiles(repo.db, folder);
    if (cached) {
      const prefix = repo.root.endsWith(sep) ? repo.root : `${repo.root}${sep}`;
      for (const rel of cached) tracked.set(rel, prefix + (sep === '/' ? rel : rel.split('/').join(sep)));
      return;
    }
  }
  const snapshot = plainFolder ? snapshotFolder(folder) : null;
  const met: SpecialEntry[] = [];
  const files = await selectFiles(repo.root, repo.root, [pattern], { special: (e) => met.push(e) });
  met.forEach(special);
  // A listing with special entries is not cached: they must be reported every time.
  if (snapshot && met.length === 0) listings.push({ folder, snapshot, files });
  for (const f of files) tracked.set(f.rel, f.abs);
}

/** The version the work tree holds by its placement record, if that version is still known. */
function checkedOutVersion(repo: Repository, model: string): VersionRow | null {
  const id = workTreePlacedVersion(repo.db, repo.metaDir, model);
  return id ? getVersion(repo.db, id) : null;
}

/** The status of `model` in the work tree (see ModelStatus). */
export async function modelStatus(repo: Repository, model: string): Promise<ModelStatus> {
  const latest = latestVersion(repo.db, model);
  const checkedOut = checkedOutVersion(repo, model);
  const base = checkedOut ?? latest;
  const patterns = repo.settings.models[model]?.paths ?? [];
  // Tracked = what the paths select now, plus every file of the compared version still
  // present, less those the stat cache answered for: repository-relative path → absolute.
  const tracked = new Map<string, string>();
  const listings: { folder: string; snapshot: FolderSnapshot; files: SelectedFile[] }[] = [];
  const notRegular = new Map<string, ModelStatus['notRegular'][number]>();
  const special = (e: SpecialEntry) => notRegular.set(e.rel, { path: e.rel, kind: e.kind });
  for (const p of patterns) {
    try {
      await selectPattern(repo, p, tracked, listings, special);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err; // a pattern matching nothing selects nothing
    }
  }
  if (listings.length) {
    writeTransaction(repo.db, () => {
      for (const l of listings) storeFolderFiles(repo.db, l.folder, l.snapshot, l.files);
    });
  }
  const deleted: ModelStatus['deleted'] = [];
  const modified: ModelStatus['modified'] = [];
  const added: ModelStatus['added'] = [];
  let unchanged = 0;
  const prefix = repo.root.endsWith(sep) ? repo.root : `${repo.root}${sep}`;
  // Committed files the stat cache could not answer for (with the stat just read, which
  // hashWorkingFiles then need not read again): hashed below, then compared.
  const toCompare = new Map<string, { size: number; digest: string; stat?: FileStatKey }>();
  // The version's files with their stat cache rows, read with them (store/stat-cache-table.ts).
  const compare = ([path, size, digest, cachedSize, mtimeNs, ctimeNs, ino, cachedIsCommitted]: VersionFileCacheRow) => {
    // Manifest paths are checked '/'-separated relative paths: no join/normalize needed.
    const abs = prefix + (sep === '/' ? path : path.split('/').join(sep));
    // One stat per file: its key is compared with the stat cache row read with the file.
    const stat = tryStatKey(abs);
    if (!stat) {
      deleted.push({ path, committedSize: size });
      toCompare.set(path, { size, digest }); // should the selection still have listed it
    } else if (!stat.isFile) {
      // Never opened: a FIFO would block status for ever.
      tracked.delete(path);
      notRegular.set(path, { path, kind: kindOfMode(stat.mode) });
    } else if (sameStatKey(stat, cachedSize, mtimeNs, ctimeNs, ino) && !notRegular.has(path)) {
      // Unchanged since it was last hashed (what hashWorkingFiles would find in the stat
      // cache): its cached digest is the version's, or not.
      tracked.delete(path);
      if (cachedIsCommitted === 1) unchanged++;
      else modified.push({ path, size: stat.size, committedSize: size });
    } else {
      tracked.set(path, abs);
      toCompare.set(path, { size, digest, stat });
    }
  };
  if (base) forEachVersionFileWithStatCache(repo.db, base.id, prefix, sep, compare);
  for (const path of notRegular.keys()) tracked.delete(path);
  // The hashing pipeline (worker threads and all) is loaded only when a file must be read.
  const toHash = [...tracked].map(([rel, abs]) => ({ abs, rel, stat: toCompare.get(rel)?.stat }));
  const hashed = toHash.length ? (await import('./file-hashing.js')).hashWorkingFiles(repo, toHash, { store: false }) : [];
  for (const h of hashed) {
    const c = toCompare.get(h.rel);
    if (!c) added.push({ path: h.rel, size: h.size });
    else if (c.digest !== h.digest) modified.push({ path: h.rel, size: h.size, committedSize: c.size });
    else unchanged++;
  }
  // Sorted here rather than sorting every tracked file up front: these lists are short.
  const byRel = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  modified.sort(byRel);
  added.sort(byRel);
  return {
    model,
    version: base ? summarizeVersion(repo.db, base) : null,
    checkedOut: checkedOut ? summarizeVersion(repo.db, checkedOut) : null,
    latest: latest ? summarizeVersion(repo.db, latest) : null,
    modified,
    added,
    deleted,
    notRegular: [...notRegular.values()].sort(byRel),
    unchanged,
    clean: modified.length === 0 && added.length === 0 && deleted.length === 0 && notRegular.size === 0,
    rehashed: hashed.filter((h) => h.rehashed).length,
  };
}

/** The kind of a non-regular entry from its stat mode bits. */
function kindOfMode(mode: number): ModelStatus['notRegular'][number]['kind'] {
  const type = mode & 0o170000;
  if (type === 0o010000) return 'fifo';
  if (type === 0o140000) return 'socket';
  if (type === 0o020000 || type === 0o060000) return 'device';
  if (type === 0o040000) return 'folder';
  return 'special';
}
