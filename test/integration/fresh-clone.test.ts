/**
 * A teammate's first minute in a fresh `git clone`: modelctl.json is there, .modelctl/ is not
 * (it is never committed). Every command said "not a modelctl repository — create one with
 * modelctl init", as if there were nothing here, and init then suggested committing a first
 * version, and `log fraud` after init said "no model named 'fraud' — list models with modelctl
 * ls" (which lists nothing). They now say the clone needs its local store, and that fetch
 * brings the versions.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('a fresh clone (modelctl.json, no .modelctl/)', () => {
  it('says init creates the local store and fetch brings the versions; then both work', () => {
    const team = tempRepo();
    const registry = join(tempDir(), 'registry');
    writeFile(team, 'model/w.bin', 'weights\n');
    writeFile(team, 'modelctl.json', JSON.stringify({ models: { fraud: { paths: ['model/'] } }, stages: ['staging', 'production'] }, null, 2));
    expect(runCli(team, ['commit', 'fraud', '-m', 'one']).code).toBe(0);
    expect(runCli(team, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    expect(runCli(team, ['push']).code).toBe(0);

    const clone = tempDir();
    copyFileSync(join(team, 'modelctl.json'), join(clone, 'modelctl.json'));
    mkdirSync(join(clone, 'src'));
    // pull too: it works without a repository when given a URL, and without one it said only
    // "no remote URL to pull from", though modelctl.json names the remote.
    for (const cwd of [clone, join(clone, 'src')]) {
      for (const args of [['log', 'fraud'], ['pull', 'fraud@latest'], ['fetch']]) {
        const r = runCli(cwd, [...args, '--json']);
        expect(r.code, args.join(' ')).toBe(3);
        expect(r.error().code).toBe('NOT_A_REPOSITORY');
        expect(r.error().hint).toContain('modelctl init');
        expect(r.error().hint).toContain('modelctl fetch');
      }
    }
    // Outside any project the hint stays the plain one.
    expect(runCli(tempDir(), ['log', 'fraud', '--json']).error().hint).not.toContain('modelctl fetch');

    const init = runCli(clone, ['init', '--yes']);
    expect(init.code).toBe(0);
    const next = init.stdout.slice(init.stdout.indexOf('Next:'));
    expect(next).toContain('modelctl fetch');
    // Nothing was promoted: the suggestion is the latest version (it works, below), not a stage.
    expect(next).toContain('modelctl pull fraud@latest');
    expect(next).not.toContain('@production');
    // Before fetching, the model modelctl.json declares is unknown here: the hint says fetch.
    const unfetched = runCli(clone, ['log', 'fraud', '--json']);
    expect(unfetched.code).toBe(3);
    expect(unfetched.error().code).toBe('UNKNOWN_MODEL');
    expect(unfetched.error().hint).toContain('modelctl fetch');
    // A model it does not declare keeps the plain hint.
    expect(runCli(clone, ['log', 'other', '--json']).error().hint).not.toContain('modelctl fetch');
    expect(runCli(clone, ['fetch']).code).toBe(0);
    expect(runCli(clone, ['log', 'fraud', '--json']).json().versions.map((v: { ref: string }) => v.ref)).toEqual(['fraud@v1']);
    expect(runCli(clone, ['pull', 'fraud@latest']).code).toBe(0);

    // A repository made from scratch still suggests its first commit, no fetch.
    const fresh = tempDir();
    const own = runCli(fresh, ['init', '--yes', '--model', 'fraud']);
    expect(own.stdout.slice(own.stdout.indexOf('Next:'))).not.toContain('modelctl fetch');
  });
});
