import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { NotFoundError, UsageError, fsError } from '../errors.js';
import { printable } from '../core/names.js';
import { toPosixPath, unsafePathReason } from '../core/paths.js';
import { META_DIR_NAME } from './repo-paths.js';

/** A file chosen for a version: where it is and the path it is recorded under. */
export interface SelectedFile {
  abs: string;
  /** Repository-relative, `/`-separated. */
  rel: string;
}

const GLOB_CHARS = /[*?[\]{}!]/;
// modelctl's own folders: the store, a pull's throwaway store and an --out folder's
// placement record (docs/design.md §10) are never part of a model; nor is a file a checkout
// staged beside its place and a crash (kill -9) left there (docs/design.md §10, write order).
const ALWAYS_IGNORED = [
  `**/${META_DIR_NAME}/**`,
  `**/${META_DIR_NAME}`,
  '**/.git/**',
  '**/.git',
  '**/.modelctl-placed/**',
  '**/.modelctl-pull/**',
  '**/*.modelctl-tmp',
];

/**
 * Expands paths, folders (recursively) and globs (fast-glob, relative to `cwd`) into a
 * sorted, de-duplicated list of files inside `root`. An empty path or one outside the repository is a
 * usage error (2); a path that does not exist or a glob that matches nothing is not
 * found (3). `.modelctl/` and `.git/` are never selected.
 */
export async function selectFiles(root: string, cwd: string, patterns: readonly string[], opts: SelectOptions = {}): Promise<SelectedFile[]> {
  // Loaded only for a folder or a glob: naming files (the common commit) never pays for it.
  let fastGlob: FastGlob | undefined;
  const walk = async (pattern: string, cwd: string) => (fastGlob ??= await loadFastGlob())(pattern, { ...WALK, cwd });
  const out = new Map<string, SelectedFile>();
  const special: SpecialEntry[] = [];
  // What a folder or glob met that is not a regular file (or a link to one): listed, never
  // skipped in silence — a version missing a file must not be recorded with exit 0.
  const meet = (abs: string, kind: SpecialEntry['kind']) => {
    const rel = relative(root, abs);
    special.push({ abs, rel: toPosixPath(rel), kind, target: kind === 'broken-link' ? linkTarget(abs) : null });
  };
  const addEntries = (entries: { path: string; dirent: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean } }[]) => {
    for (const e of entries) {
      const abs = resolve(e.path);
      const d = e.dirent;
      if (d.isDirectory()) continue;
      if (d.isFile()) add(abs);
      // Links are followed: one still a link here points at nothing (or at itself).
      else if (d.isSymbolicLink()) meet(abs, 'broken-link');
      else meet(abs, d.isFIFO() ? 'fifo' : d.isSocket() ? 'socket' : d.isCharacterDevice() || d.isBlockDevice() ? 'device' : 'special');
    }
  };
  const add = (abs: string) => {
    const rel = repoRelative(root, abs);
    // A name that is not valid UTF-8 reaches us with U+FFFD in place of its bytes, and the
    // glob library turns a backslash into '/': either way the name we got opens nothing and
    // could not be recorded in a (UTF-8, '/'-separated) manifest.
    if (!existsPlain(abs)) {
      throw new UsageError('UNREPRESENTABLE_PATH', `'${printable(rel)}' stands for a file whose name cannot be recorded (not valid UTF-8, or a backslash)`, {
        hint: 'rename the file',
      });
    }
    // The manifest's path rule, checked before any byte is stored: a name it refuses (a
    // newline, a backslash, which is a plain character here) would make a version that
    // every later read rejects.
    const why = sep === '/' && relative(root, abs).includes('\\') ? 'backslash' : unsafePathReason(rel);
    if (why) throw new UsageError('UNSAFE_PATH', `'${printable(relative(root, abs))}' cannot be recorded: ${why}`, { hint: 'rename the file' });
    out.set(rel, { abs, rel });
  };
  for (const pattern of patterns) {
    if (pattern.includes('\0')) throw new UsageError('INVALID_PATH', 'paths may not contain NUL bytes');
    // An empty word (an unset shell variable) would resolve to the current folder and select
    // everything in it; "here" is written '.'.
    if (pattern === '') throw new UsageError('EMPTY_PATH', 'a path is empty', { hint: "give the path (an unset shell variable?); the current folder is '.'" });
    const absPattern = resolve(cwd, pattern);
    if (!GLOB_CHARS.test(pattern) || existsPlain(absPattern)) {
      if (absPattern !== root) repoRelative(root, absPattern); // throws when outside
      const st = statOrThrow(absPattern, pattern);
      if (!st.isDirectory() && !st.isFile()) {
        meet(absPattern, st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'device' : 'special');
        continue;
      }
      if (st.isDirectory()) {
        addEntries(await walk('**/*', absPattern));
      } else {
        add(absPattern);
      }
      continue;
    }
    // Globs are anchored at the root (fast-glob handles '../' in patterns poorly).
    const anchored = toPosixPath(relative(root, absPattern));
    if (anchored.startsWith('../') || isAbsolute(anchored)) {
      throw outside(pattern);
    }
    const found = (await walk(anchored, root)).filter((e) => !e.dirent.isDirectory());
    if (found.length === 0) {
      throw new NotFoundError('NO_MATCH', `'${printable(pattern)}' matches no file`, { hint: 'check the pattern (globs are relative to the current folder)' });
    }
    addEntries(found);
  }
  if (special.length) {
    if (opts.special) special.forEach(opts.special);
    else throw specialEntriesError(special);
  }
  return [...out.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** An entry a folder or glob selected that is not a regular file or a link to one. */
export interface SpecialEntry {
  abs: string;
  /** Repository-relative, `/`-separated. */
  rel: string;
  kind: 'broken-link' | 'fifo' | 'socket' | 'device' | 'special';
  /** Where a broken link points. */
  target: string | null;
}

export interface SelectOptions {
  /**
   * Called for each FIFO, socket, device or broken link met (status reports them);
   * without it selectFiles throws naming every one (broken links exit 3, the rest exit 2).
   */
  special?: (entry: SpecialEntry) => void;
}

const KIND_WORDS: Record<SpecialEntry['kind'], string> = {
  'broken-link': 'a broken symbolic link',
  fifo: 'a FIFO (named pipe)',
  socket: 'a socket',
  device: 'a device',
  special: 'not a regular file',
};

function specialEntriesError(entries: SpecialEntry[]): Error {
  const describe = (e: SpecialEntry) => `'${printable(e.rel)}' (${KIND_WORDS[e.kind]}${e.target !== null ? ` to '${printable(e.target)}'` : ''})`;
  const broken = entries.filter((e) => e.kind === 'broken-link');
  const listed = (es: SpecialEntry[]) => es.slice(0, 20).map(describe).join(', ') + (es.length > 20 ? `, and ${es.length - 20} more` : '');
  const data = { entries: entries.map((e) => ({ path: e.rel, kind: e.kind, target: e.target })) };
  if (broken.length) {
    return new NotFoundError('BROKEN_SYMLINK', `${broken.length === 1 ? 'a link points' : `${broken.length} links point`} at nothing: ${listed(broken)}`, {
      hint: 'links are followed and their content stored: fix or remove each link, then commit again',
      data,
    });
  }
  return new UsageError('NOT_A_FILE', `only regular files can be committed: ${listed(entries)}`, {
    hint: 'move them out of the folder or narrow the paths (a glob such as model/*.bin)',
    data,
  });
}

function linkTarget(abs: string): string | null {
  try {
    return readlinkSync(abs);
  } catch {
    return null;
  }
}

/** How folders and globs are walked: links followed (content stored), entries typed. */
const WALK = {
  absolute: true,
  dot: true,
  onlyFiles: false,
  objectMode: true,
  followSymbolicLinks: true,
  throwErrorOnBrokenSymbolicLink: false,
  ignore: ALWAYS_IGNORED,
} as const;

/** The `/`-separated path of `abs` relative to `root`; throws when it is outside. */
export function repoRelative(root: string, abs: string): string {
  const rel = relative(root, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw outside(abs);
  const posix = toPosixPath(rel);
  if (posix === META_DIR_NAME || posix.startsWith(`${META_DIR_NAME}/`)) {
    throw new UsageError('PATH_IN_METADATA', `'${printable(posix)}' is inside ${META_DIR_NAME}/`, { hint: 'commit model files, not the store' });
  }
  return posix;
}

/**
 * Throws UsageError (2) unless `p`, a path written in modelctl.json (relative to the root),
 * stays inside the repository, symbolic links resolved: a shared settings file must not make
 * commit read, and record, a file elsewhere on the machine (~/.docker/config.json…).
 */
export function assertSettingsPathInside(root: string, p: string): void {
  const abs = resolve(root, p);
  repoRelative(root, abs);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return; // absent: reading it reports not found
  }
  const rel = relative(realpathSync(root), real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw outside(p);
}

function outside(p: string): UsageError {
  return new UsageError('PATH_OUTSIDE_REPOSITORY', `'${printable(p)}' is outside the repository`, {
    hint: 'model files must be inside the folder that holds .modelctl/ (copy them in, or run `modelctl init` higher up)',
  });
}

function existsPlain(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function statOrThrow(abs: string, shown: string): Stats {
  try {
    return statSync(abs);
  } catch (err) {
    const e = fsError(err, shown);
    const target = e.code === 'FILE_NOT_FOUND' && existsPlain(abs) ? linkTarget(abs) : null;
    if (target !== null) {
      throw new NotFoundError('BROKEN_SYMLINK', `'${printable(shown)}' is a broken symbolic link (to '${printable(target)}')`, {
        hint: 'links are followed and their content stored: fix or remove the link',
        data: { entries: [{ path: shown, kind: 'broken-link', target }] },
      });
    }
    if (e.code === 'FILE_NOT_FOUND') {
      throw new NotFoundError('FILE_NOT_FOUND', `'${printable(shown)}' does not exist`, { hint: 'check the path' });
    }
    throw e;
  }
}

type FastGlob = typeof import('fast-glob');
/** fast-glob is CommonJS (`export =`); loaded lazily since most commands never glob. */
async function loadFastGlob(): Promise<FastGlob> {
  const mod = (await import('fast-glob')) as unknown as { default: FastGlob };
  return mod.default;
}
