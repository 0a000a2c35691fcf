/**
 * A checkout of a version whose bytes are not here says how to get them: a fetched version
 * (its bytes on a remote) names the pull that brings it, and following that hint works; a
 * version with no remote copy points at verify. Exit 6, nothing written either way.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempRepo, tempRepoWithFolderRemote, writeFile } from '../helpers/temp-repo.js';

describe('checkout of a version whose bytes are elsewhere', () => {
  it('after fetch: exit 6 naming `modelctl pull <model>@vN`, which then places the files', () => {
    const { repo: team, registry } = tempRepoWithFolderRemote();
    writeFile(team, 'model/w.bin', 'weights one');
    expect(runCli(team, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    expect(runCli(team, ['push']).code).toBe(0);

    const mine = tempRepo();
    expect(runCli(mine, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    expect(runCli(mine, ['fetch']).code).toBe(0);
    const r = runCli(mine, ['checkout', 'm@v1']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('`modelctl pull m@v1`');
    expect(() => readFileSync(join(mine, 'model/w.bin'))).toThrow();
    expect(runCli(mine, ['pull', 'm@v1']).code).toBe(0);
    expect(readFileSync(join(mine, 'model/w.bin'), 'utf8')).toBe('weights one');
  });

  it('with no remote copy: exit 6 pointing at verify', () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'weights one');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    writeFile(repo, 'model/w.bin', 'weights two');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'two']).code).toBe(0);
    const digest = (runCli(repo, ['show', 'm@v1', '--json']).json().files as { digest: string }[])[0].digest;
    rmSync(join(repo, '.modelctl', 'objects', digest.slice(0, 2), digest.slice(2)), { force: true });
    const r = runCli(repo, ['checkout', 'm@v1']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('modelctl verify');
    expect(readFileSync(join(repo, 'model/w.bin'), 'utf8')).toBe('weights two');
  });
});
