import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { IntegrityError, fsError } from '../errors.js';

/**
 * A model folder enumerated the way `model_signing` does (docs/design.md §11): every path
 * under the root, dotfiles included; a path equal to or under an ignored path is dropped
 * (an ignored folder drops its subtree); symbolic links are refused unless allowed, and
 * then a link to a file is taken under the link's own name while a link to a folder is
 * neither followed nor taken; broken links, sockets, FIFOs and devices are always refused.
 * A root that is a file is a one-file model whose only name is ".".
 */

/** One file of a model folder: its resource name (POSIX path from the root) and where it is. */
export interface ModelFolderFile {
  name: string;
  abs: string;
}

export interface ModelFolderOptions {
  /** The model: a folder or one file, absolute. */
  root: string;
  /** Absolute paths to leave out (with their subtrees). */
  ignore: readonly string[];
  allowSymlinks: boolean;
}

/** Lists the files of a model in the reference tool's enumeration. Throws IntegrityError (6) for a refused entry, NotFoundError (3) for a missing root. */
export function listModelFolder(opts: ModelFolderOptions): ModelFolderFile[] {
  const ignored = (abs: string) => opts.ignore.some((i) => abs === i || abs.startsWith(i.endsWith(sep) ? i : i + sep));
  let st: Stats;
  try {
    st = lstatSync(opts.root);
  } catch (err) {
    throw fsError(err, opts.root);
  }
  const out: ModelFolderFile[] = [];
  const visit = (abs: string, st: Stats): void => {
    if (ignored(abs)) return;
    if (st.isSymbolicLink()) {
      if (!opts.allowSymlinks) throw refused(abs, opts.root, 'is a symbolic link (pass --allow-symlinks to follow links to files)');
      let target: Stats;
      try {
        target = statSync(abs);
      } catch {
        throw refused(abs, opts.root, 'is a broken symbolic link');
      }
      if (target.isFile()) out.push({ name: nameOf(abs, opts.root), abs });
      else if (!target.isDirectory()) throw refused(abs, opts.root, 'links to something that is neither a file nor a folder');
      return;
    }
    if (st.isFile()) {
      out.push({ name: nameOf(abs, opts.root), abs });
      return;
    }
    if (!st.isDirectory()) throw refused(abs, opts.root, 'is not a regular file or folder (socket, FIFO or device)');
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      throw fsError(err, abs);
    }
    for (const n of names.sort()) {
      const child = join(abs, n);
      let cst: Stats;
      try {
        cst = lstatSync(child);
      } catch (err) {
        throw fsError(err, child);
      }
      visit(child, cst);
    }
  };
  visit(opts.root, st);
  return out;
}

/**
 * The given resource names of a model, only (what `--ignore-unsigned-files` hashes): each
 * must exist as a file (or, with allowSymlinks, a link to one); absent names are left out
 * for the caller to report as missing.
 */
export function signedModelFiles(root: string, names: Iterable<string>, allowSymlinks: boolean): ModelFolderFile[] {
  let rootIsFile = false;
  try {
    rootIsFile = lstatSync(root).isFile();
  } catch (err) {
    throw fsError(err, root);
  }
  const out: ModelFolderFile[] = [];
  for (const name of names) {
    if (rootIsFile ? name !== '.' : name === '.' || name.split('/').some((p) => p === '..')) continue;
    const abs = rootIsFile ? root : join(root, ...name.split('/'));
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) {
      if (!allowSymlinks) throw refused(abs, root, 'is a symbolic link (pass --allow-symlinks to follow links to files)');
      try {
        if (!statSync(abs).isFile()) continue;
      } catch {
        throw refused(abs, root, 'is a broken symbolic link');
      }
    } else if (!st.isFile()) continue;
    out.push({ name, abs });
  }
  return out;
}

function nameOf(abs: string, root: string): string {
  const rel = relative(root, abs);
  return rel === '' ? '.' : rel.split(sep).join('/');
}

function refused(abs: string, root: string, why: string): IntegrityError {
  return new IntegrityError('UNSUPPORTED_FILE', `'${nameOf(abs, root)}' in ${root} ${why}`, { hint: 'remove it, or add it to --ignore-paths' });
}
