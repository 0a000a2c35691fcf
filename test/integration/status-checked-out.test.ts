import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('status compares with what is checked out', () => {
  it('after checkout of an old version it reports that version, names the latest, and lists changes against the old one', () => {
    const repo = tempRepo();
    writeFile(repo, 'model/a.bin', 'a1');
    expect(runCli(repo, ['commit', 'm', 'model']).code).toBe(0);
    expect(runCli(repo, ['promote', 'm@v1', '--to', 'staging']).code).toBe(0);
    writeFile(repo, 'model/a.bin', 'a2');
    writeFile(repo, 'model/emotion.bin', 'e');
    expect(runCli(repo, ['commit', 'm', 'model']).code).toBe(0);

    let s = runCli(repo, ['status', 'm', '--json']).json().models[0];
    expect([s.version.number, s.latest.number, s.checkedOut.number, s.clean]).toEqual([2, 2, 2, true]);

    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    s = runCli(repo, ['status', 'm', '--json']).json().models[0];
    expect([s.version.number, s.latest.number, s.checkedOut.number, s.clean]).toEqual([1, 2, 1, true]);
    const human = runCli(repo, ['status', 'm']);
    expect(human.stdout).toMatch(/matches m@v1 \(staging\); latest is v2/);

    writeFile(repo, 'model/a.bin', 'edited');
    s = runCli(repo, ['status', 'm', '--json']).json().models[0];
    expect(s.modified.map((f: { path: string }) => f.path)).toEqual(['model/a.bin']);
    expect(s.deleted).toEqual([]); // v2's emotion.bin is not v1's: not "deleted"
    expect(s.version.number).toBe(1);
  });

  it('a version fetched but never checked out is "not checked out here", not a list of deletions; once files are there, changes are listed again', () => {
    const a = tempRepo();
    writeFile(a, 'model/a.bin', 'a1');
    writeFile(a, 'model/b.bin', 'b1');
    expect(runCli(a, ['commit', 'm', 'model']).code).toBe(0);
    const registry = join(tempDir(), 'registry');
    mkdirSync(registry);
    expect(runCli(a, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    expect(runCli(a, ['push']).code).toBe(0);
    const b = tempRepo();
    expect(runCli(b, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    expect(runCli(b, ['fetch']).code).toBe(0);

    const human = runCli(b, ['status']);
    expect(human.stdout.trim()).toBe('m: m@v1 is not checked out here (2 files, none in the workspace): `modelctl pull m` places it');
    // --json is unchanged: the files are still the version's, absent here.
    expect(runCli(b, ['status', '--json']).json().models[0].deleted.map((f: { path: string }) => f.path)).toEqual(['model/a.bin', 'model/b.bin']);

    // One file there (copied by hand): now it is a workspace that differs, listed as such.
    writeFile(b, 'model/a.bin', 'a1');
    expect(runCli(b, ['status']).stdout).toMatch(/^m: workspace differs from m@v1 \(1 change\)\n  deleted: +model\/b\.bin$/m);
    rmSync(join(b, 'model'), { recursive: true });
    expect(runCli(b, ['pull', 'm']).code).toBe(0);
    expect(runCli(b, ['status']).stdout).toMatch(/workspace matches m@v1/);
  });
});
