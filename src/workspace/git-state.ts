import { createHash } from 'node:crypto';
import type { CodeLineage } from '../core/manifest.js';
import { redactUrl } from '../core/redact.js';

/**
 * Code lineage of the folder `dir` via simple-git: commit, branch, dirty flag (tracked or
 * untracked changes that .gitignore does not hide), a hash of the uncommitted diff, the
 * origin URL with credentials stripped, the repository root. Not a git repository (or no
 * git, or no commit yet) → null: code lineage is absent, not an error.
 */
export async function readGitState(dir: string): Promise<CodeLineage | null> {
  const { simpleGit } = await import('simple-git');
  const git = simpleGit({ baseDir: dir, trimmed: true });
  try {
    if (!(await git.checkIsRepo())) return null;
    const root = await git.revparse(['--show-toplevel']);
    const commit = await git.revparse(['HEAD']);
    let branch: string | null = await git.raw(['rev-parse', '--abbrev-ref', 'HEAD']);
    branch = branch.trim();
    if (branch === 'HEAD' || branch === '') branch = null;
    const status = await git.raw(['status', '--porcelain', '--untracked-files=all']);
    const dirty = status.trim().length > 0;
    let diffHash: string | null = null;
    if (dirty) {
      const diff = await git.raw(['diff', 'HEAD', '--binary']);
      diffHash = createHash('sha256').update(status).update('\0').update(diff).digest('hex');
    }
    let remote: string | null = null;
    try {
      const url = (await git.raw(['config', '--get', 'remote.origin.url'])).trim();
      remote = url ? redactUrl(url) : null;
    } catch {
      remote = null;
    }
    return { commit: commit.trim(), branch, dirty, diffHash, remote, root };
  } catch {
    return null;
  }
}

/** The git `user.email` for `dir`, or null. */
export async function readGitUserEmail(dir: string): Promise<string | null> {
  try {
    const { simpleGit } = await import('simple-git');
    const email = (await simpleGit({ baseDir: dir }).raw(['config', '--get', 'user.email'])).trim();
    return email || null;
  } catch {
    return null;
  }
}
