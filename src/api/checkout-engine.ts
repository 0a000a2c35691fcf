import { existsSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ConflictError, IntegrityError } from '../errors.js';
import type { VersionManifest } from '../core/manifest.js';
import { assertSafeRelativePath } from '../core/paths.js';
import { writeTransaction } from '../store/index-db.js';
import type { VersionRow } from '../store/version-records.js';
import { materializeFile, type LinkMode, type LinkUsed } from '../workspace/materialize.js';
import { statKey, storeStatCache } from '../workspace/stat-cache.js';
import { hashWorkingFiles } from './file-hashing.js';
import { readVersionManifest } from './read-manifest.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';

/** Where and how to write a version's files. */
export interface CheckoutTarget {
  /** Folder to write into (relative to the repository's cwd); default: the files' recorded paths in the repository. */
  out?: string;
  link?: LinkMode;
  /** Overwrite files with local changes. */
  force?: boolean;
  /** Objects the caller verified moments ago (pull): written without hashing them again. */
  verified?: ReadonlySet<string>;
}

export interface CheckoutResult {
  version: VersionSummary;
  outDir: string;
  files: { path: string; action: 'written' | 'unchanged'; link: LinkUsed | null; size: number }[];
}

interface CheckoutStep {
  path: string;
  dest: string;
  write: boolean;
}

/** A checked checkout, not yet written: applyCheckout writes it. */
export interface CheckoutPlan {
  version: VersionRow;
  manifest: VersionManifest;
  outDir: string;
  realOut: string;
  link: LinkMode;
  verified: ReadonlySet<string> | undefined;
  steps: CheckoutStep[];
}

/**
 * Checks every target of version `v` before anything is written: a file whose content is not
 * any committed file of this repository (a local change) is only overwritten with `force`;
 * otherwise ConflictError (4) lists them. Missing objects → IntegrityError (6).
 */
export function planCheckout(repo: Repository, v: VersionRow, opts: CheckoutTarget = {}): CheckoutPlan {
  const manifest = readVersionManifest(repo, v.id);
  const outDir = opts.out ? resolve(repo.cwd, opts.out) : repo.root;
  mkdirSync(outDir, { recursive: true });
  const realOut = realpathSync(outDir);
  const link = opts.link ?? repo.settings.checkoutLink;

  // Plan first, write after: a refusal leaves the folder untouched.
  const knownDigest = repo.db.prepare('SELECT 1 FROM files WHERE digest = ? LIMIT 1');
  const steps: CheckoutStep[] = [];
  const conflicts: string[] = [];
  for (const f of manifest.files) {
    assertSafeRelativePath(f.path);
    if (/^\.modelctl(-pull)?(\/|$)/.test(f.path)) {
      throw new IntegrityError('UNSAFE_PATH', `'${f.path}' would be written into modelctl's own folder`, { hint: 'the manifest was crafted; do not use it' });
    }
    const dest = join(outDir, ...f.path.split('/'));
    assertInside(realOut, dest);
    if (!repo.store.hasObject(f.digest)) {
      throw new IntegrityError('OBJECT_MISSING', `the bytes of '${f.path}' (object ${f.digest.slice(0, 12)}) are not in the local store`, {
        hint: 'pull the version from a remote (`modelctl pull`), or run `modelctl verify`',
      });
    }
    let st;
    try {
      st = lstatSync(dest);
    } catch {
      steps.push({ path: f.path, dest, write: true });
      continue;
    }
    if (!st.isFile()) {
      if (!opts.force) conflicts.push(f.path);
      steps.push({ path: f.path, dest, write: true });
      continue;
    }
    const [current] = hashWorkingFiles(repo, [{ abs: dest, rel: f.path }], { store: false });
    if (current.digest === f.digest && current.mode === f.mode) {
      steps.push({ path: f.path, dest, write: false });
    } else {
      if (!opts.force && !knownDigest.get(current.digest)) conflicts.push(f.path);
      steps.push({ path: f.path, dest, write: true });
    }
  }
  if (conflicts.length) {
    throw new ConflictError('WOULD_OVERWRITE', `checkout would overwrite ${conflicts.length} locally changed file${conflicts.length === 1 ? '' : 's'}: ${conflicts.slice(0, 10).join(', ')}${conflicts.length > 10 ? ', …' : ''}`, {
      hint: 'commit or move your changes first, or pass --force to overwrite them',
      data: { files: conflicts },
    });
  }
  return { version: v, manifest, outDir, realOut, link, verified: opts.verified, steps };
}

/** Writes a planned checkout, each file verified byte for byte on the way (see materialize.ts). */
export function applyCheckout(repo: Repository, plan: CheckoutPlan): CheckoutResult {
  const { manifest, outDir, realOut, link, steps, version: v } = plan;
  const files: CheckoutResult['files'] = [];
  const written: { abs: string; digest: string }[] = [];
  // With 'move' an object leaves the store at its first use; later copies come from there.
  const placed = new Map<string, string>();
  for (const [i, p] of steps.entries()) {
    const f = manifest.files[i];
    if (!p.write) {
      files.push({ path: p.path, action: 'unchanged', link: null, size: f.size });
      continue;
    }
    const dir = dirname(p.dest);
    mkdirSync(dir, { recursive: true });
    assertInside(realOut, join(realpathSync(dir), 'x'));
    if (existsSync(p.dest) && !lstatSync(p.dest).isFile()) {
      throw new ConflictError('WOULD_OVERWRITE', `'${p.path}' exists and is not a regular file`, { hint: 'move it away and run checkout again' });
    }
    const firstCopy = link === 'move' ? placed.get(f.digest) : undefined;
    const verified = plan.verified?.has(f.digest) ?? false;
    const used = firstCopy
      ? materializeFile(firstCopy, p.dest, dir, f.digest, f.mode, 'copy', verified)
      : materializeFile(repo.store.objectPath(f.digest), p.dest, dir, f.digest, f.mode, link, verified);
    if (link === 'move' && !firstCopy) placed.set(f.digest, p.dest);
    files.push({ path: p.path, action: 'written', link: used, size: f.size });
    written.push({ abs: p.dest, digest: f.digest });
  }
  writeTransaction(repo.db, () => {
    for (const w of written) storeStatCache(repo.db, w.abs, statKey(w.abs), w.digest);
  });
  return { version: summarizeVersion(repo.db, v), outDir, files };
}

/** Refuses a destination that resolves outside the target folder (e.g. via a symlinked folder). */
function assertInside(realRoot: string, dest: string): void {
  let probe = dirname(dest);
  while (!existsSync(probe)) probe = dirname(probe);
  const real = realpathSync(probe);
  const rel = relative(realRoot, real);
  if (rel.startsWith(`..${sep}`) || rel === '..' || resolve(realRoot, rel) !== real) {
    throw new IntegrityError('UNSAFE_PATH', `'${dest}' would be written outside ${realRoot}`, { hint: 'a folder on the way is a link pointing elsewhere; remove it' });
  }
}
