/**
 * A corrupt object in the local store is repaired by the command the error names (README,
 * "When verify finds a problem"): verify and checkout move it to .modelctl/quarantine/, so
 * `modelctl pull <ref>` brings it again — from the workspace's intact copy when the file is
 * in place, from the remote when it is not. Before, pull trusted the object it had, reported
 * "all verified", and verify and checkout kept failing on the same bytes. A watcher whose
 * cached object rotted moves it aside and downloads it again instead of failing each restart.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, promoteIn, pushIn, repoWithFolderRemote } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { corrupt, digestOf } from '../helpers/store-repair.js';

describe('repairing a corrupt object', () => {

  it('with no remote, the hint names no pull (it cannot work) but the commit that repairs from an intact copy, or a backup', async () => {
    const repo = tempRepo();
    const a = pseudoRandomBytes(100_000, 4);
    writeFile(repo, 'm/a.bin', a);
    await commitIn(repo, 'fraud', ['m'], 'one');
    const object = corrupt(repo, digestOf(repo, 'fraud@v1', 'm/a.bin'));
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    expect(v.json()).toMatchObject({ affected: ['fraud@v1'], withoutRemote: ['fraud@v1'] });
    expect(v.error().hint).not.toContain('modelctl pull');
    expect(v.error().hint).toContain('fraud@v1 is on no remote');
    expect(v.error().hint).toContain('`modelctl commit <model> <paths…>`');
    expect(v.error().hint).toContain('restore the store from a backup');
    expect(runCli(repo, ['verify']).code).toBe(6);
    // Following the hint: the workspace copy is intact, committed again it stores the bytes.
    expect(runCli(repo, ['commit', 'fraud', 'm', '-m', 'again']).code).toBe(0);
    expect(readFileSync(object).equals(a)).toBe(true);
    expect(runCli(repo, ['verify']).code).toBe(0);
  });

  it('a version never pushed to the default remote is named as on no remote; a pushed one beside it as pullable', async () => {
    const { repo } = await repoWithFolderRemote();
    writeFile(repo, 'pushed.bin', pseudoRandomBytes(100_000, 5));
    await commitIn(repo, 'fraud', ['pushed.bin'], 'one');
    await pushIn(repo);
    writeFile(repo, 'local.bin', pseudoRandomBytes(100_000, 6));
    await commitIn(repo, 'local', ['local.bin'], 'not pushed');
    corrupt(repo, digestOf(repo, 'fraud@v1', 'pushed.bin'));
    const digest = digestOf(repo, 'local@v1', 'local.bin');
    corrupt(repo, digest);
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    expect(v.json()).toMatchObject({ affected: ['fraud@v1', 'local@v1'], withoutRemote: ['local@v1'] });
    expect(v.error().hint).toContain('`modelctl pull fraud@v1`');
    expect(v.error().hint).not.toContain('modelctl pull local@v1');
    expect(v.error().hint).toContain('local@v1 is on no remote');
    // checkout's own hint says the same of the object it meets.
    runCli(repo, ['pull', 'fraud@v1']);
    const file = join(repo, '.modelctl/objects', digest.slice(0, 2), digest.slice(2));
    writeFileSync(file, pseudoRandomBytes(100_000, 7));
    rmSync(join(repo, 'local.bin'));
    const co = runCli(repo, ['checkout', 'local@v1', '--json']);
    expect(co.code).toBe(6);
    expect(co.error().code).toBe('CORRUPT_OBJECT');
    expect(co.error().hint).not.toContain('modelctl pull');
    expect(co.error().hint).toContain('`modelctl commit local <paths…>`');
  });

  it('a corrupt manifest is moved aside by verify and brought again by the pull its hint names; a pull alone repairs one too', async () => {
    const { repo } = await repoWithFolderRemote();
    writeFile(repo, 'm/a.bin', pseudoRandomBytes(100_000, 8));
    await commitIn(repo, 'fraud', ['m'], 'one');
    await pushIn(repo);
    const id = runCli(repo, ['show', 'fraud@v1', '--json']).json().version.id as string;
    const manifest = join(repo, '.modelctl/manifests', id.slice(0, 2), `${id.slice(2)}.json`);
    const intact = readFileSync(manifest);
    const damage = () => {
      chmodSync(manifest, 0o644);
      writeFileSync(manifest, Buffer.from(intact.toString('utf8').replace('"one"', '"0ne"')));
    };
    damage();
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    const problem = (v.json().problems as { kind: string; quarantined?: string }[]).find((p) => p.kind === 'corrupt-manifest')!;
    expect(problem.quarantined).toContain(join('.modelctl', 'quarantine', `${id}.json.`));
    expect(existsSync(manifest)).toBe(false);
    expect(v.json()).toMatchObject({ affected: ['fraud@v1'], withoutRemote: [] });
    expect(v.error().hint).toContain('`modelctl pull fraud@v1`');
    const pull = runCli(repo, ['pull', 'fraud@v1']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(manifest).equals(intact)).toBe(true);
    expect(runCli(repo, ['verify']).code).toBe(0);
    // Without verify first: the pull moves the damaged bytes aside itself.
    damage();
    const again = runCli(repo, ['pull', 'fraud@v1']);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(manifest).equals(intact)).toBe(true);
    expect(runCli(repo, ['show', 'fraud@v1']).code).toBe(0);
  });

  it('a lost manifest of a version on no remote: no pull is named, and the hint says there is no other copy', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/a.bin', pseudoRandomBytes(100_000, 9));
    await commitIn(repo, 'fraud', ['m'], 'one');
    const id = runCli(repo, ['show', 'fraud@v1', '--json']).json().version.id as string;
    rmSync(join(repo, '.modelctl/manifests', id.slice(0, 2), `${id.slice(2)}.json`), { force: true });
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    expect(v.json()).toMatchObject({ affected: ['fraud@v1'], withoutRemote: ['fraud@v1'] });
    expect(v.error().hint).not.toContain('modelctl pull');
    expect(v.error().hint).toContain('fraud@v1 is on no remote: a lost manifest has no other copy');
  });

  it('watch downloads again a cached object that rotted, and deploys the version whole', async () => {
    const { repo: team, registry } = await repoWithFolderRemote();
    const shared = pseudoRandomBytes(200_000, 5);
    writeFile(team, 'model/shared.bin', shared);
    for (const n of [1, 2]) {
      writeFile(team, 'model/w.bin', `w${n}\n`);
      await commitIn(team, 'fraud', ['model/'], `v${n}`);
    }
    await pushIn(team);
    const host = tempDir();
    const state = join(host, 'state');
    const watchOnce = () => runCli(host, ['watch', 'fraud@production', '--remote', registry, '--out', join(host, 'model'), '--state', state, '--once', '--json']);
    const events = (r: ReturnType<typeof runCli>) => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; version?: { ref: string } });
    await promoteIn(team, 'fraud@v1', 'production', { push: true });
    expect(watchOnce().code).toBe(0);
    // v2 shares model/shared.bin with v1: its folder is built from the cached object.
    corrupt(join(state, 'cache'), digestOf(team, 'fraud@v2', 'model/shared.bin'));
    await promoteIn(team, 'fraud@v2', 'production', { push: true });
    const r = watchOnce();
    expect(r.code, r.stderr).toBe(0);
    expect(events(r).map((e) => e.event)).toContain('cache-repaired');
    expect(events(r).filter((e) => e.event === 'deployed').map((e) => e.version?.ref)).toEqual(['fraud@v2']);
    expect(readFileSync(join(host, 'model/model/shared.bin')).equals(shared)).toBe(true);
    expect(readFileSync(join(host, 'model/model/w.bin'), 'utf8')).toBe('w2\n');
  });
});
