/**
 * readGitState (workspace/git-state.ts) asks git with three processes at once; each case a
 * training repository can be in must still give the lineage it gave when it asked seven
 * times in a row.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readGitState } from '../../src/workspace/git-state.js';

let dir: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } }).toString().trim();

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'git-state-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readGitState', () => {
  it('is null outside a repository and before the first commit', async () => {
    expect(await readGitState(dir)).toBeNull();
    git('init', '-q', '-b', 'main');
    expect(await readGitState(dir)).toBeNull();
  });

  it('gives commit, branch, the root (from a subfolder), a clean flag and the origin without credentials', async () => {
    git('init', '-q', '-b', 'train');
    writeFileSync(join(dir, 'train.py'), 'print(1)\n');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    git('remote', 'add', 'origin', 'https://user:secret@example.com/acme/train.git');
    mkdirSync(join(dir, 'sub'));
    const state = await readGitState(join(dir, 'sub'));
    expect(state).toEqual({ commit: git('rev-parse', 'HEAD'), branch: 'train', dirty: false, diffHash: null, remote: 'https://example.com/acme/train.git', root: dir });
  });

  it('has no branch on a detached HEAD, no remote without origin, and hashes the uncommitted change', async () => {
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'train.py'), 'print(1)\n');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    git('checkout', '-q', '--detach');
    writeFileSync(join(dir, 'train.py'), 'print(2)\n');
    const state = await readGitState(dir);
    expect(state).toMatchObject({ commit: git('rev-parse', 'HEAD'), branch: null, dirty: true, remote: null, root: dir });
    expect(state!.diffHash).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(join(dir, 'train.py'), 'print(3)\n');
    expect((await readGitState(dir))!.diffHash).not.toBe(state!.diffHash);
  });
});
