import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('integrity', () => {
  it('a damaged index.db gives a clear error naming verify --rebuild-index, and the rebuild restores it', async () => {
    const repo = tempRepo();
    // Arranged through the Node API (setup-api.ts).
    writeFile(repo, 'm/w', '1');
    await commitIn(repo, 'fraud', ['m'], '1', { tag: 'keep' });
    writeFile(repo, 'm/w', '2');
    await commitIn(repo, 'fraud', ['m'], '2');
    const ids = runCli(repo, ['log', 'fraud', '--json']).json().versions.map((v: { id: string }) => v.id);
    writeFileSync(join(repo, '.modelctl/index.db'), 'this is not a database'.repeat(100));
    for (const ext of ['-wal', '-shm']) if (existsSync(join(repo, `.modelctl/index.db${ext}`))) unlinkSync(join(repo, `.modelctl/index.db${ext}`));
    const broken = runCli(repo, ['log', 'fraud', '--json']);
    expect(broken.code).toBe(6);
    expect(broken.error().code).toBe('INDEX_DAMAGED');
    expect(broken.error().hint).toContain('verify --rebuild-index');
    const rebuilt = runCli(repo, ['verify', '--rebuild-index', '--json']);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.json().versions).toBe(2);
    const log = runCli(repo, ['log', 'fraud', '--json']).json();
    expect(log.versions.map((v: { id: string }) => v.id)).toEqual(ids);
    expect(log.versions.map((v: { number: number }) => v.number)).toEqual([2, 1]);
    expect(runCli(repo, ['verify']).code).toBe(0);
    expect(runCli(repo, ['checkout', 'fraud@v1', '--out', 'o']).code).toBe(0);
  });

  it('rebuild keeps numbers, tags and events when the old index is still readable', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/w', '1');
    // Arranged through the Node API (setup-api.ts).
    await commitIn(repo, 'fraud', ['m'], '1', { tag: 'keep' });
    const r = runCli(repo, ['verify', '--rebuild-index', '--json']).json();
    expect(r.salvaged.tags).toBe(1);
    expect(runCli(repo, ['show', 'fraud@keep', '--json']).code).toBe(0);
  });
});

describe('config', () => {
  it('unset removes a setting, under `config unset` and `config set --unset`', () => {
    const repo = tempRepo();
    // Unsetting what was never set (no local settings file yet) is a no-op, not a crash.
    const nothing = runCli(repo, ['config', 'unset', 'checkout.link']);
    expect(nothing.code, nothing.stderr).toBe(0);
    expect(runCli(repo, ['config', 'set', 'checkout.link', 'hardlink']).code).toBe(0);
    expect(runCli(repo, ['config', 'get', 'checkout.link', '--json']).json().source).toBe('local');
    const unset = runCli(repo, ['config', 'unset', 'checkout.link']);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stdout).toContain('Unset checkout.link');
    expect(runCli(repo, ['config', 'get', 'checkout.link', '--json']).json().source).not.toBe('local');
    expect(runCli(repo, ['config', 'set', '--shared', 'policies.production.require_reason', 'true']).code).toBe(0);
    expect(runCli(repo, ['config', 'unset', '--shared', 'policies.production.require_reason']).code).toBe(0);
    expect(JSON.parse(readFileSync(join(repo, 'modelctl.json'), 'utf8')).policies?.production?.require_reason).toBeUndefined();
    expect(runCli(repo, ['config', 'set', 'checkout.link', 'copy']).code).toBe(0);
    expect(runCli(repo, ['config', 'set', '--unset', 'checkout.link']).code).toBe(0);
    expect(runCli(repo, ['config', 'get', 'checkout.link', '--json']).json().source).not.toBe('local');
  });
});

describe('git lineage', () => {
  function git(cwd: string, ...args: string[]) {
    execFileSync('git', args, { cwd, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
  }

  it('the quick start records a clean tree: the committed files, metrics file, data, store and lock are not changes to the code', () => {
    const repo = tempDir();
    git(repo, 'init', '-q', '-b', 'main');
    writeFile(repo, 'train.py', 'print(1)');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'code');
    expect(runCli(repo, ['init', '--yes']).code).toBe(0);
    git(repo, 'add', 'modelctl.json', '.gitignore');
    git(repo, 'commit', '-q', '-m', 'track the model with modelctl');
    // None of these is in git, nor ignored by it: the outputs of training and its data.
    writeFile(repo, 'model.bin', 'w1');
    writeFile(repo, 'out/ckpt/a.pt', 'a');
    writeFile(repo, 'metrics.json', '{"accuracy": 0.9}');
    writeFile(repo, 'data/train.csv', 'x,y\n1,2\n');
    const commit = (...args: string[]) => runCli(repo, ['commit', 'm', ...args, '--data', 'data/', '--metrics', 'metrics.json', '--lock', '--json']);
    const first = commit('model.bin', 'out');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().version.gitDirty).toBe(false);
    expect(runCli(repo, ['show', 'm', '--json']).json().lineage.code).toMatchObject({ dirty: false, diffHash: null });
    // modelctl.lock, written by the first commit and not committed to git, changes nothing either.
    expect(existsSync(join(repo, 'modelctl.lock'))).toBe(true);
    writeFile(repo, 'model.bin', 'w2');
    expect(commit('model.bin', 'out').json().version.gitDirty).toBe(false);
    // Anything else is still a change: an uncommitted file beside them, or edited code.
    writeFile(repo, 'notes.txt', 'untracked');
    writeFile(repo, 'model.bin', 'w3');
    const untracked = commit('model.bin', 'out').json().version;
    expect(untracked.gitDirty).toBe(true);
    unlinkSync(join(repo, 'notes.txt'));
    writeFile(repo, 'train.py', 'print(2)');
    writeFile(repo, 'model.bin', 'w4');
    expect(commit('model.bin', 'out').json().version.gitDirty).toBe(true);
    const code = runCli(repo, ['show', 'm', '--json']).json().lineage.code;
    expect(code.diffHash).toMatch(/^[0-9a-f]{64}$/);
    // The hash covers the code change alone: the model file changing again leaves it as it was.
    writeFile(repo, 'model.bin', 'w5');
    expect(commit('model.bin', 'out').code).toBe(0);
    expect(runCli(repo, ['show', 'm', '--json']).json().lineage.code.diffHash).toBe(code.diffHash);
  });
});
