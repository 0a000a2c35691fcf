import { createHash } from 'node:crypto';
import { isAbsolute, posix, relative } from 'node:path';
import type { CodeLineage } from '../core/manifest.js';
import { toPosixPath } from '../core/paths.js';
import { redactUrl } from '../core/redact.js';
import { runGit } from './git-command.js';

/**
 * Absolute paths whose content a version records itself, each standing for everything below
 * it too: the version's files, its metrics file, its data inputs, modelctl's store and lock.
 * Their git status leaves the tree clean (README, "Lineage recorded by `commit`"): a model
 * file git does not track is the output being versioned, not a change to the code.
 */
export type RecordedPaths = readonly string[];

/**
 * Code lineage of the folder `dir` (git-command.ts): commit, branch, dirty flag (tracked or
 * untracked changes that .gitignore does not hide, outside `recorded`), a hash of those
 * uncommitted changes, the origin URL with credentials stripped, the repository root. Not a
 * git repository (or no git, or no commit yet) → null: code lineage is absent, not an error.
 */
export async function readGitState(dir: string, recorded: RecordedPaths = []): Promise<CodeLineage | null> {
  const tree = await readWorkTree(dir, runGit(dir, ['config', '--get', 'remote.origin.url']).catch(() => '')); // exit 1: no origin
  return tree && settle(dir, tree, recorded);
}

/** What git said of a work tree before the version's own paths are known (readGitLineage). */
export interface GitReading {
  email: string | null;
  /** The code lineage with `recorded` left out, as readGitState gives it; never rejects. */
  code(recorded: RecordedPaths): Promise<CodeLineage | null>;
}

/**
 * readGitState and readGitUserEmail together, as commit needs both: one `git config` answers
 * the origin URL and user.email (each the last value git has for it, as `--get` gives), so
 * three processes run instead of four (each spawn costs this thread ~3 ms). They start before
 * commit selects its files; only the diff, needed for a dirty tree alone, waits for them.
 */
export async function readGitLineage(dir: string): Promise<GitReading> {
  const config = runGit(dir, ['config', '-z', '--get-regexp', '^(remote\\.origin\\.url|user\\.email)$']).then(parseConfigList, () => new Map<string, string>());
  const [tree, values] = await Promise.all([readWorkTree(dir, config.then((v) => v.get('remote.origin.url') ?? '')), config]);
  return { email: values.get('user.email') || null, code: async (recorded) => tree && settle(dir, tree, recorded) };
}

/** `git config -z` output (`key\nvalue\0` per entry) as key → its last value, trimmed like `--get`'s. */
function parseConfigList(out: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of out.split('\0')) {
    if (!entry) continue;
    const nl = entry.indexOf('\n');
    values.set(nl < 0 ? entry : entry.slice(0, nl), nl < 0 ? '' : entry.slice(nl + 1).trim());
  }
  return values;
}

/** One entry of `git status --porcelain -z`: its bytes as printed, its paths (git-root-relative). */
interface StatusEntry {
  record: string;
  paths: string[];
  tracked: boolean;
}

interface WorkTree {
  commit: string;
  branch: string | null;
  root: string;
  /** `dir` relative to the git root, `/`-terminated ('' at the root). */
  prefix: string;
  remote: string | null;
  entries: StatusEntry[];
}

async function readWorkTree(dir: string, origin: Promise<string>): Promise<WorkTree | null> {
  try {
    // Three git processes at once, not seven one after the other (~10 ms each, a third of a
    // small commit). One rev-parse answers root, prefix, commit and branch, a line each; it
    // fails outside a repository and before the first commit, which both mean no code lineage.
    const [revs, status, originUrl] = await Promise.all([
      runGit(dir, ['rev-parse', '--show-toplevel', '--show-prefix', 'HEAD', '--abbrev-ref', 'HEAD']),
      runGit(dir, ['status', '--porcelain', '-z', '--untracked-files=all'], { raw: true }),
      origin,
    ]);
    const [root, prefix, commit, abbrev] = revs.split('\n').map((l) => l.trim());
    if (!root || !commit || !/^[0-9a-f]{40,64}$/.test(commit)) return null;
    const url = originUrl.trim();
    return { commit, branch: abbrev === 'HEAD' || !abbrev ? null : abbrev, root, prefix, remote: url ? redactUrl(url) : null, entries: parseStatus(status) };
  } catch {
    return null;
  }
}

/** `git status --porcelain -z`: `XY path\0`, and for a rename or copy `XY new\0old\0`. */
function parseStatus(out: string): StatusEntry[] {
  const fields = out.split('\0');
  const entries: StatusEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    const paths = [f.slice(3)];
    let record = `${f}\0`;
    if ((xy[0] === 'R' || xy[0] === 'C') && i + 1 < fields.length) {
      paths.push(fields[++i]);
      record += `${fields[i]}\0`;
    }
    entries.push({ record, paths, tracked: xy !== '??' });
  }
  return entries;
}

async function settle(dir: string, tree: WorkTree, recorded: RecordedPaths): Promise<CodeLineage | null> {
  const isRecorded = recordedTest(dir, tree.prefix, recorded);
  const kept = tree.entries.filter((e) => !e.paths.every(isRecorded));
  const dirty = kept.length > 0;
  let diffHash: string | null = null;
  if (dirty) {
    try {
      diffHash = createHash('sha256').update(kept.map((e) => e.record).join('')).update('\0').update(await keptDiff(dir, tree, kept)).digest('hex');
    } catch {
      return null; // git failed between its answers (the repository went away): as outside git
    }
  }
  const { commit, branch, remote, root } = tree;
  return { commit, branch, dirty, diffHash, remote, root };
}

/**
 * `git diff HEAD --binary` of what is still dirty: the whole diff when no tracked path was left
 * out (the common case), else only the kept tracked paths' (none: no diff at all).
 */
function keptDiff(dir: string, tree: WorkTree, kept: StatusEntry[]): Promise<string> {
  const keptTracked = kept.filter((e) => e.tracked);
  if (keptTracked.length === tree.entries.filter((e) => e.tracked).length) return runGit(dir, ['diff', 'HEAD', '--binary']);
  if (keptTracked.length === 0) return Promise.resolve('');
  return runGit(dir, ['diff', 'HEAD', '--binary', '--', ...keptTracked.flatMap((e) => e.paths.map((p) => `:(top,literal)${p}`))]);
}

/**
 * Whether a git-root-relative path is one of `recorded` or below one — or above one: git
 * lists a symbolic link to a folder, or a nested repository (`sub/`), as one entry.
 */
function recordedTest(dir: string, prefix: string, recorded: RecordedPaths): (path: string) => boolean {
  const covered = new Set<string>();
  const above = new Set<string>();
  for (const abs of recorded) {
    const rel = relative(dir, abs);
    if (rel === '' || isAbsolute(rel)) continue;
    const p = posix.normalize(`${prefix}${toPosixPath(rel)}`).replace(/\/$/, '');
    if (p === '..' || p.startsWith('../')) continue; // outside the git work tree
    covered.add(p);
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) above.add(p.slice(0, i));
  }
  return (path) => {
    const p = path.replace(/\/$/, '');
    if (above.has(p)) return true;
    for (let q = p; ; ) {
      if (covered.has(q)) return true;
      const i = q.lastIndexOf('/');
      if (i < 0) return false;
      q = q.slice(0, i);
    }
  };
}

/**
 * True when `dir` is inside a git work tree, commits or not: tells "before the first commit"
 * from "outside git", which readGitState's null does not (both have no code lineage).
 */
export async function isInGitWorkTree(dir: string): Promise<boolean> {
  try {
    return (await runGit(dir, ['rev-parse', '--is-inside-work-tree'])) === 'true';
  } catch {
    return false;
  }
}

/** The git `user.email` for `dir`, or null. */
export async function readGitUserEmail(dir: string): Promise<string | null> {
  try {
    const email = await runGit(dir, ['config', '--get', 'user.email']);
    return email || null;
  } catch {
    return null;
  }
}
