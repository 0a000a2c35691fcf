import { createHash } from 'node:crypto';
import type { CodeLineage } from '../core/manifest.js';
import { redactUrl } from '../core/redact.js';
import { runGit } from './git-command.js';

/**
 * Code lineage of the folder `dir` (git-command.ts): commit, branch, dirty flag (tracked or
 * untracked changes that .gitignore does not hide), a hash of the uncommitted diff, the
 * origin URL with credentials stripped, the repository root. Not a git repository (or no
 * git, or no commit yet) → null: code lineage is absent, not an error.
 */
export async function readGitState(dir: string): Promise<CodeLineage | null> {
  try {
    // Three git processes at once, not seven one after the other (~10 ms each, a third of a
    // small commit). One rev-parse answers root, commit and branch, a line each; it fails
    // outside a repository and before the first commit, which both mean no code lineage.
    const [revs, status, origin] = await Promise.all([
      runGit(dir, ['rev-parse', '--show-toplevel', 'HEAD', '--abbrev-ref', 'HEAD']),
      runGit(dir, ['status', '--porcelain', '--untracked-files=all']),
      runGit(dir, ['config', '--get', 'remote.origin.url']).catch(() => ''), // exit 1: no origin
    ]);
    const [root, commit, abbrev] = revs.split('\n').map((l) => l.trim());
    if (!root || !commit || !/^[0-9a-f]{40,64}$/.test(commit)) return null;
    const branch = abbrev === 'HEAD' || !abbrev ? null : abbrev;
    const dirty = status.trim().length > 0;
    let diffHash: string | null = null;
    if (dirty) {
      const diff = await runGit(dir, ['diff', 'HEAD', '--binary']);
      diffHash = createHash('sha256').update(status).update('\0').update(diff).digest('hex');
    }
    const url = origin.trim();
    return { commit, branch, dirty, diffHash, remote: url ? redactUrl(url) : null, root };
  } catch {
    return null;
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
