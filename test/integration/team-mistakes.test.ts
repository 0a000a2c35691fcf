/**
 * Mistakes a teammate makes with a shared remote (README, "Remotes" and "Working in a team"),
 * each found by trying it by hand on two clones of one folder remote: a typo'd model name
 * given to `fetch` answered "Nothing on <remote>" with exit 0; a remote path that is a file
 * was "not a registry" for reads and a retryable network error (exit 7, "check that the
 * folder is reachable, then run the command again") for a push; a repository-less pull of a
 * removed version spoke of "this repository" and hinted at `modelctl log`, which needs one.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, remoteAddIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCli, team } from '../helpers/team-mistakes.js';

describe('fetch <model> with a name the remote does not hold', () => {
  it('a typo is exit 3 naming the remote\'s closest model, and fetches nothing; a model only here is not an error', async () => {
    const { b } = await team();
    const typo = await runCli(b, ['fetch', 'fcae', '--json']);
    expect(typo.code).toBe(3);
    expect(typo.error().code).toBe('UNKNOWN_MODEL');
    expect(typo.error().data.candidates).toEqual(['face']);
    expect((await runCli(b, ['ls', '--json'])).json().models ?? []).toEqual([]);

    // A model committed here and never pushed: nothing to fetch, and no error.
    writeFile(b, 'local/w.bin', pseudoRandomBytes(1000, 9));
    await commitIn(b, 'local-only', ['local'], 'v1');
    expect((await runCli(b, ['fetch', 'local-only'])).code).toBe(0);
    expect((await runCli(b, ['fetch', 'face'])).code).toBe(0);
  }, 120_000);
});

describe('a folder remote whose path is a file', () => {
  it('push, fetch, ls --remote and a repository-less pull are exit 2 naming the file, which stays untouched', async () => {
    const a = tempRepo();
    writeFile(a, 'face/w.bin', pseudoRandomBytes(40_000, 3));
    await commitIn(a, 'face', ['face'], 'v1');
    const file = join(tempDir(), 'registry.txt');
    writeFileSync(file, 'not a folder\n');
    await remoteAddIn(a, 'origin', file, { default: true });

    for (const args of [['push', '--json'], ['fetch', '--json'], ['ls', '--remote', file, '--json']]) {
      const r = await runCli(a, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.error().code).toBe('REMOTE_NOT_A_FOLDER');
      expect(r.error().message).toContain(file);
    }
    const out = join(tempDir(), 'out');
    const pulled = await runCli(tempDir(), ['pull', 'face@v1', '--remote', file, '--out', out, '--json']);
    expect(pulled.code).toBe(2);
    expect(pulled.error().code).toBe('REMOTE_NOT_A_FOLDER');
    // A folder under the file cannot be made either: the same answer, naming the file.
    const under = await runCli(a, ['push', '--remote', join(file, 'sub'), '--json']);
    expect(under.code).toBe(2);
    expect(under.error().code).toBe('REMOTE_NOT_A_FOLDER');
    expect(under.error().message).toContain(file);
    expect(readFileSync(file, 'utf8')).toBe('not a folder\n');
  }, 120_000);
});

describe('tag -d --push', () => {
  it('deletes the tag on the remote too; says so when the remote never had it; a tag moved there since is exit 4 and stays there', async () => {
    const { remote, a, b } = await team();
    const tagsThere = () => (existsSync(join(remote, 'models', 'face', 'tags')) ? readdirSync(join(remote, 'models', 'face', 'tags')) : []);
    expect((await runCli(a, ['tag', 'face@v1', 'gold', '--push'])).code).toBe(0);
    expect(tagsThere()).toEqual(['gold.json']);
    const gone = await runCli(a, ['tag', '-d', 'face@gold', '--push', '--json']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.json().remote.status).toBe('deleted');
    expect(tagsThere()).toEqual([]);
    // Only here: deleted here, and the remote is said to hold none.
    expect((await runCli(a, ['tag', 'face@v1', 'draft'])).code).toBe(0);
    const local = await runCli(a, ['tag', '-d', 'face@draft', '--push']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain('held no such tag');
    // b moves a tag a last fetched at v1; a's delete must not remove b's tag.
    expect((await runCli(a, ['tag', 'face@v1', 'rc', '--push'])).code).toBe(0);
    expect((await runCli(b, ['fetch'])).code).toBe(0);
    expect((await runCli(b, ['tag', 'face@v2', 'rc', '--force', '--push'])).code).toBe(0);
    const late = await runCli(a, ['tag', '-d', 'face@rc', '--push']);
    expect(late.code).toBe(4);
    expect(late.stderr).toContain('rc');
    expect(tagsThere()).toEqual(['rc.json']);
    expect(JSON.parse(readFileSync(join(remote, 'models', 'face', 'tags', 'rc.json'), 'utf8')).version).toBe((await runCli(b, ['show', 'face@v2', '--json'])).json().version.id);
  }, 120_000);
});
