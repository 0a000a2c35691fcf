/**
 * readGitState (workspace/git-state.ts) asks git with three processes at once; each case a
 * training repository can be in must still give the lineage it gave when it asked seven
 * times in a row (and, since it no longer goes through simple-git, the same values), and
 * nothing it started may outlive the answer.
 */
import { execFileSync } from 'node:child_process';
import { createHook } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readGitLineage, readGitState, readGitUserEmail } from '../../src/workspace/git-state.js';

let dir: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } }).toString().trim();

/** readGitLineage's answer with nothing recorded, comparable with readGitState's and readGitUserEmail's. */
async function lineageOf(d: string) {
  const reading = await readGitLineage(d);
  return { code: await reading.code([]), email: reading.email };
}

/** `git init` on `branch` and a first commit of train.py ("print(1)"). */
function initWithFirstCommit(branch = 'main'): void {
  git('init', '-q', '-b', branch);
  writeFileSync(join(dir, 'train.py'), 'print(1)\n');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
}

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
    initWithFirstCommit('train');
    git('remote', 'add', 'origin', 'https://user:secret@example.com/acme/train.git');
    mkdirSync(join(dir, 'sub'));
    const state = await readGitState(join(dir, 'sub'));
    expect(state).toEqual({ commit: git('rev-parse', 'HEAD'), branch: 'train', dirty: false, diffHash: null, remote: 'https://example.com/acme/train.git', root: dir });
  });

  it('has no branch on a detached HEAD, no remote without origin, and hashes the uncommitted change', async () => {
    initWithFirstCommit();
    git('checkout', '-q', '--detach');
    writeFileSync(join(dir, 'train.py'), 'print(2)\n');
    const state = await readGitState(dir);
    expect(state).toMatchObject({ commit: git('rev-parse', 'HEAD'), branch: null, dirty: true, remote: null, root: dir });
    expect(state!.diffHash).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(join(dir, 'train.py'), 'print(3)\n');
    expect((await readGitState(dir))!.diffHash).not.toBe(state!.diffHash);
  });

  it('hashes the -z porcelain status as git printed it, a NUL and the binary diff less outer white space', async () => {
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'train.py'), 'print(1)\n');
    writeFileSync(join(dir, 'w.bin'), Buffer.from([0, 1, 2, 255, 0, 10]));
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    writeFileSync(join(dir, 'train.py'), 'print(2)\n');
    writeFileSync(join(dir, 'w.bin'), Buffer.from([0, 9, 2, 255, 0, 10, 7]));
    writeFileSync(join(dir, 'new.txt'), 'untracked\n');
    // Raw: the -z records keep their leading space (" M train.py\0") and NUL terminators.
    const status = execFileSync('git', ['status', '--porcelain', '-z', '--untracked-files=all'], { cwd: dir }).toString();
    const diff = git('diff', 'HEAD', '--binary');
    expect(diff).toContain('GIT binary patch');
    const expected = createHash('sha256').update(status).update('\0').update(diff).digest('hex');
    expect((await readGitState(dir))!.diffHash).toBe(expected);
  });

  it('arms no timer that would keep the command alive after the answer', async () => {
    initWithFirstCommit();
    git('remote', 'add', 'origin', 'https://example.com/acme/train.git');
    git('config', 'user.email', 'trainer@example.com');
    writeFileSync(join(dir, 'train.py'), 'print(2)\n');
    // simple-git, used before, armed a 50 ms timer per process after it exited (and another
    // when the process printed nothing), which kept the command alive after its answer. No
    // such timer is made now (async_hooks sees every one; vitest's own 60 s test timeout,
    // armed meanwhile, is not one of them).
    const timers: number[] = [];
    const hook = createHook({
      init: (_id, type, _trigger, resource) => {
        const ms = (resource as { _idleTimeout?: number })._idleTimeout ?? 0;
        if (type === 'Timeout' && ms < 10_000) timers.push(ms);
      },
    });
    hook.enable();
    try {
      expect(await readGitState(dir)).toMatchObject({ dirty: true, remote: 'https://example.com/acme/train.git' });
      expect(await readGitUserEmail(dir)).toBe('trainer@example.com');
      expect(await lineageOf(dir)).toMatchObject({ email: 'trainer@example.com', code: { dirty: true } });
      expect(timers).toEqual([]);
    } finally {
      hook.disable();
    }
  });

  it('readGitLineage (one git config for origin and user.email) answers what readGitState and readGitUserEmail answer', async () => {
    const both = async (d: string) => ({ code: await readGitState(d), email: await readGitUserEmail(d) });
    expect(await lineageOf(dir)).toEqual(await both(dir)); // not a repository
    initWithFirstCommit();
    expect(await lineageOf(dir)).toEqual(await both(dir)); // no origin, email from the global config (or none)
    // Two origin URLs (the last is the one --get gives), credentials in it, an email with
    // spaces kept by quotes, a dirty tree.
    git('remote', 'add', 'origin', 'https://a.example.com/first.git');
    git('config', '--add', 'remote.origin.url', 'https://user:secret@b.example.com/second.git');
    writeFileSync(join(dir, '.git', 'config'), `${readFileSync(join(dir, '.git', 'config'), 'utf8')}[user]\n\temail = "  trainer@example.com "\n`);
    writeFileSync(join(dir, 'train.py'), 'print(2)\n');
    const lineage = await lineageOf(dir);
    expect(lineage).toEqual(await both(dir));
    expect(lineage).toMatchObject({ code: { remote: 'https://b.example.com/second.git', dirty: true }, email: 'trainer@example.com' });
  });

  it('leaves the paths a version records out of the dirty flag and the diff hash, and nothing else', async () => {
    initWithFirstCommit();
    mkdirSync(join(dir, 'model'));
    writeFileSync(join(dir, 'model', 'w.bin'), 'weights');
    writeFileSync(join(dir, 'metrics.json'), '{"acc":1}');
    const recorded = [join(dir, 'model'), join(dir, 'metrics.json')];
    expect(await readGitState(dir)).toMatchObject({ dirty: true });
    expect(await readGitState(dir, recorded)).toMatchObject({ dirty: false, diffHash: null });
    expect(await (await readGitLineage(dir)).code(recorded)).toMatchObject({ dirty: false, diffHash: null });
    // An untracked script beside them is a change to the code: dirty, and it alone is hashed.
    writeFileSync(join(dir, 'prep.py'), 'x\n');
    const dirty = await readGitState(dir, recorded);
    expect(dirty).toMatchObject({ dirty: true });
    const only = execFileSync('git', ['status', '--porcelain', '-z', '--untracked-files=all', '--', 'prep.py'], { cwd: dir }).toString();
    expect(dirty!.diffHash).toBe(createHash('sha256').update(only).update('\0').update('').digest('hex'));
  });
});
