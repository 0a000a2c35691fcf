import { describe, expect, it } from 'vitest';
import { runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

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
});
