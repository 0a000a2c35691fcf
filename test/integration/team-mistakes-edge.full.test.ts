/**
 * Mistakes a teammate makes with a shared remote (README, "Remotes" and "Working in a team"),
 * each found by trying it by hand on two clones of one folder remote: a typo'd model name
 * given to `fetch` answered "Nothing on <remote>" with exit 0; a remote path that is a file
 * was "not a registry" for reads and a retryable network error (exit 7, "check that the
 * folder is reachable, then run the command again") for a push; a repository-less pull of a
 * removed version spoke of "this repository" and hinted at `modelctl log`, which needs one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { remove } from '../../src/api/remove.js';
import { apiEnv, commitIn, fetchIn, promoteIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCli, team } from '../helpers/team-mistakes.js';

describe('a repository-less pull of a version removed on the remote', () => {
  it('says who removed it and why, and hints at a command that works with no repository', async () => {
    const { remote, a } = await team();
    await remove({ cwd: a, env: apiEnv(), ref: 'face@v1', remote: 'origin', reason: 'leaked rows', argv: ['rm', 'face@v1', '--remote', 'origin', '--reason', 'leaked rows'] });
    const r = await runCli(tempDir(), ['pull', 'face@v1', '--remote', remote, '--out', join(tempDir(), 'out'), '--json']);
    expect(r.code).toBe(3);
    expect(r.error().code).toBe('VERSION_REMOVED_ON_REMOTE');
    expect(r.error().message).toContain('leaked rows');
    expect(r.error().message).not.toContain('this repository');
    expect(r.error().hint).toContain(`modelctl log face --remote ${remote}`);
  }, 120_000);
});

describe('a repository-less pull whose --out is a file', () => {
  it('is exit 4 NOT_A_FOLDER naming it, as inside a repository, not an unexpected failure; the file stays', async () => {
    const { remote } = await team();
    const cwd = tempDir();
    const file = join(cwd, 'model');
    writeFileSync(file, 'keep me\n');
    for (const out of [file, join(file, 'sub')]) {
      const r = await runCli(cwd, ['pull', 'face@v2', '--remote', remote, '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(4);
      expect(r.error().code).toBe('NOT_A_FOLDER');
      expect(r.error().message).toContain(file);
    }
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
  }, 120_000);
});

describe('remote status counts only events a push from here can publish', () => {
  it('the events of a version this clone never held (removed before it fetched) do not keep a mirror "differing" after a push', async () => {
    const { remote, a } = await team();
    await remove({ cwd: a, env: apiEnv(), ref: 'face@v1', remote: 'origin', reason: 'leaked rows', argv: ['rm', 'face@v1', '--remote', 'origin', '--reason', 'leaked rows'] });
    // c pulls after the removal: v1's events arrive, v1 itself never does.
    const c = tempRepo();
    await remoteAddIn(c, 'origin', remote, { default: true });
    expect((await runCli(c, ['pull', 'face@v2'])).code).toBe(0);
    const mirror = join(tempDir(), 'mirror');
    const pushed = await runCli(c, ['push', '--remote', mirror, '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const again = await runCli(c, ['push', '--remote', mirror, '--json']);
    expect(again.json().events).toBe(0);
    const st = await runCli(c, ['remote', 'status', mirror, '--json']);
    expect(st.code, st.stderr).toBe(0);
    const s = st.json().remotes[0] as { models: unknown[]; inSync: string[] };
    expect(s.models).toEqual([]);
    expect(s.inSync).toEqual(['face']);
  }, 120_000);
});

describe('a conflict on a remote other than the default names that remote in its fix', () => {
  it('promote --push --remote mirror and push --remote mirror: the hint fetches from mirror, and following it works', async () => {
    const { a, b } = await team();
    const mirror = join(tempDir(), 'mirror');
    await remoteAddIn(a, 'mirror', mirror);
    await remoteAddIn(b, 'mirror', mirror);
    await pushIn(a, [], { remote: 'mirror' });
    expect((await runCli(b, ['fetch', '--remote', 'mirror'])).code).toBe(0);
    expect((await runCli(a, ['promote', 'face@v2', '--to', 'staging', '--push', '--remote', 'mirror'])).code).toBe(0);

    // b is stale on mirror; `modelctl fetch face` alone would read origin and change nothing.
    const stale = await runCli(b, ['promote', 'face@v1', '--to', 'staging', '--push', '--remote', 'mirror', '--json']);
    expect(stale.code).toBe(4);
    expect(stale.error().hint).toContain('modelctl fetch face --remote mirror');
    expect((await runCli(b, ['fetch', 'face', '--remote', 'mirror'])).code).toBe(0);
    expect((await runCli(b, ['promote', 'face@v1', '--to', 'staging', '--push', '--remote', 'mirror'])).code).toBe(0);

    // The same for a plain push that meets a stage moved there meanwhile.
    expect((await runCli(b, ['promote', 'face@v2', '--to', 'production'])).code).toBe(0);
    expect((await runCli(a, ['fetch', '--remote', 'mirror'])).code).toBe(0);
    expect((await runCli(a, ['promote', 'face@v1', '--to', 'production', '--push', '--remote', 'mirror'])).code).toBe(0);
    const conflict = await runCli(b, ['push', '--remote', 'mirror', '--json']);
    expect(conflict.code).toBe(4);
    expect(conflict.error().code).toBe('PUSH_CONFLICT');
    expect(conflict.error().hint).toContain('modelctl fetch --remote mirror');
  }, 180_000);
});

describe('rollback of a stage empty here that a teammate filled on the remote', () => {
  it('exit 3, and the hint names `modelctl fetch` (as an empty stage in a reference does), not only "promote one"', async () => {
    const { a, b } = await team();
    await fetchIn(b);
    await promoteIn(a, 'face@v2', 'production', { push: true });
    const r = await runCli(b, ['rollback', 'face', '--stage', 'production', '--push', '--json']);
    expect(r.code).toBe(3);
    expect(r.error().code).toBe('STAGE_EMPTY');
    expect(r.error().hint).toContain('modelctl fetch');
  }, 120_000);

  it('the only version here holds the stage, a teammate pushed another: the hint names `modelctl fetch` too', async () => {
    const { a, b } = await team();
    writeFile(a, 'solo/w.bin', pseudoRandomBytes(30_000, 7));
    await commitIn(a, 'solo', ['solo'], 'solo v1');
    await promoteIn(a, 'solo@v1', 'production', { push: true });
    await fetchIn(b);
    writeFile(a, 'solo/w.bin', pseudoRandomBytes(30_000, 8));
    await commitIn(a, 'solo', ['solo'], 'solo v2');
    await pushIn(a);
    const r = await runCli(b, ['rollback', 'solo', '--stage', 'production', '--json']);
    expect(r.code).toBe(3);
    expect(r.error().code).toBe('NO_PREVIOUS_HOLDER');
    expect(r.error().hint).toContain('only version of solo here');
    expect(r.error().hint).toContain('modelctl fetch solo');
  }, 120_000);
});

describe('remote status over every remote, one of them unreadable', () => {
  it('reports the readable remotes, names the failing one with its error, and exits with its code', async () => {
    const { a } = await team();
    const file = join(tempDir(), 'not-a-folder');
    writeFileSync(file, 'x');
    // "broken" sorts before "origin": the failure must not hide origin's report.
    await remoteAddIn(a, 'broken', file);
    writeFile(a, 'face/w.bin', pseudoRandomBytes(40_000, 3));
    await commitIn(a, 'face', ['face'], 'v3');
    const text = await runCli(a, ['remote', 'status']);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/origin \(.*\): 1 model differs/);
    expect(text.stdout).toContain('not on the remote: face@v3');
    expect(text.stdout).toMatch(/broken \(.*not-a-folder\): could not be read: .*is a file, not a folder/);
    expect(text.stderr).toContain('could not read remote broken');
    const json = await runCli(a, ['remote', 'status', '--json']);
    expect(json.code).toBe(2);
    const { data } = json.error() as { data: { failed: { name: string; error: { exitCode: number } }[]; result: { remotes: { name: string }[] } } };
    expect(data.failed.map((f) => [f.name, f.error.exitCode])).toEqual([['broken', 2]]);
    expect(data.result.remotes.map((r) => r.name)).toEqual(['origin']);
    // Asked for by name, the failing remote is the command's error, as before.
    const named = await runCli(a, ['remote', 'status', 'broken']);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('is a file, not a folder');
    // The only remote left unreadable: its error is said once, on stderr, and nothing else.
    expect((await runCli(a, ['remote', 'rm', 'origin'])).code).toBe(0);
    const alone = await runCli(a, ['remote', 'status']);
    expect(alone.code).toBe(2);
    expect(alone.stdout).toBe('');
    expect(alone.stderr.match(/is a file, not a folder/g)).toHaveLength(1);
  }, 120_000);
});
