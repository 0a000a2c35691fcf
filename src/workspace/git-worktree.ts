import { NotFoundError, UsageError } from '../errors.js';

/**
 * The temporary git worktrees of `modelctl reproduce` (docs/design.md §14), through simple-git:
 * a detached checkout of one commit beside the user's work tree, sharing its object database,
 * so nothing in the user's folder changes.
 */

async function git(dir: string) {
  const { simpleGit } = await import('simple-git');
  return simpleGit({ baseDir: dir, trimmed: true });
}

/** The top folder of the git work tree holding `dir`; UsageError (2) when there is none. */
export async function gitTopLevel(dir: string): Promise<string> {
  const g = await git(dir);
  try {
    if (await g.checkIsRepo()) return (await g.revparse(['--show-toplevel'])).trim();
  } catch {
    /* not a repository, or no git */
  }
  throw new UsageError('NOT_IN_GIT', `${dir} is not inside a git work tree, so the recorded commit cannot be checked out`, {
    hint: 'run reproduce in a clone of the repository the version was trained in',
  });
}

/** Throws NotFoundError (3) unless `commit` is a commit this repository has. */
export async function assertCommitExists(top: string, commit: string): Promise<void> {
  try {
    await (await git(top)).raw(['cat-file', '-e', `${commit}^{commit}`]);
  } catch {
    throw new NotFoundError('GIT_COMMIT_NOT_FOUND', `the recorded git commit ${commit.slice(0, 12)} is not in this repository`, {
      hint: 'fetch it (`git fetch --all`), or reproduce in the clone it was made in',
      data: { commit },
    });
  }
}

/** `git worktree add --detach <path> <commit>`: `path` must be absent or an empty folder. */
export async function addWorktree(top: string, path: string, commit: string): Promise<void> {
  await (await git(top)).raw(['worktree', 'add', '--detach', path, commit]);
}

/** `git worktree remove --force <path>` (its files go, links in it are not followed), then prune. */
export async function removeWorktree(top: string, path: string): Promise<void> {
  const g = await git(top);
  try {
    await g.raw(['worktree', 'remove', '--force', '--force', path]);
  } finally {
    await g.raw(['worktree', 'prune']);
  }
}
