import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempDir, writeFile } from '../helpers/temp-repo.js';
import { git, mc, trainingData, trainingRepo } from './repro-helpers.js';
import { worktrees, reproduceTemps, run } from '../helpers/reproduce.js';

/**
 * `modelctl reproduce` (docs/design.md §14): the deterministic training job rebuilds
 * bit-identical (exit 0), the clock-seeded one does not (exit 4, with per-file differences
 * and metric deltas); changed data is reported; a dirty recorded tree is refused unless
 * --allow-dirty; nothing is left behind unless --keep; Ctrl-C removes the worktree too.
 */

describe('modelctl reproduce', () => {

  it('works where the modelctl repository is a folder of a git work tree, run from a folder below it', () => {
    const root = trainingRepo({ subdir: 'ml' });
    // init kept .modelctl/ out of git there too, so the tree stays clean.
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).toContain('.modelctl');
    writeFile(root, 'jobs/README', 'training jobs run from here');
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'jobs folder');
    const r = runCli(join(root, 'jobs'), ['run', '--json', '--', 'sh', '-c', 'cd .. && node train.js --seed 7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().run.cwd).toBe('jobs');
    expect(mc(root, 'show', 'tiny').json().lineage.code.dirty).toBe(false);
    const rep = mc(root, 'reproduce', 'tiny');
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.json()).toMatchObject({ identical: true, reproduced: true, cwd: 'jobs' });
    expect(worktrees(root)).toHaveLength(1);
  });

  it('reports data inputs that no longer hash to their recorded digest', () => {
    const root = trainingRepo();
    run(root, '--', 'node', 'train.js', '--seed', '7');
    writeFile(root, 'data/train.csv', trainingData(64, 3));
    const r = mc(root, 'reproduce', 'tiny');
    expect(r.code).toBe(4);
    const report = r.json();
    expect(report.dataMatches).toBe(false);
    expect(report.data[0]).toMatchObject({ source: 'data/train.csv', status: 'changed' });
    expect(report.data[0].actual).not.toBe(report.data[0].recorded);
    expect(report.identical).toBe(false);
  });

  it('--in and --keep keep the worktree with the rebuilt files', () => {
    const root = trainingRepo();
    run(root, '--', 'node', 'train.js', '--seed', '7');
    const dir = join(tempDir('modelctl-keep-'), 'rebuild');
    const r = mc(root, 'reproduce', 'tiny', '--in', dir, '--keep');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ worktree: dir, kept: true, identical: true });
    expect(readFileSync(join(dir, 'model/weights.bin')).equals(readFileSync(join(root, 'model/weights.bin')))).toBe(true);
    expect(worktrees(root)).toHaveLength(2);
    git(root, 'worktree', 'remove', '--force', dir);
    const notEmpty = tempDir('modelctl-keep-');
    writeFileSync(join(notEmpty, 'something'), 'x');
    expect(mc(root, 'reproduce', 'tiny', '--in', notEmpty).code).toBe(2);
  });

  it('Ctrl-C reaches the rebuilt command, removes the worktree and exits 130', async () => {
    const root = trainingRepo();
    writeFile(
      root,
      'slow.js',
      `const fs = require('fs');
fs.mkdirSync('model', { recursive: true });
fs.writeFileSync('model/w.bin', 'w');
fs.writeFileSync('metrics.json', '{}');
if (process.env.MARKERS) {
  process.on('SIGINT', () => { fs.writeFileSync(process.env.MARKERS + '/got-sigint', 'yes'); process.exit(1); });
  fs.writeFileSync(process.env.MARKERS + '/started', 'yes');
  setTimeout(() => {}, 30000);
}
`,
    );
    git(root, 'add', 'slow.js');
    git(root, 'commit', '-q', '-m', 'slow job');
    run(root, '--', 'node', 'slow.js');
    const markers = tempDir('modelctl-markers-');
    const tempsBefore = reproduceTemps();
    const child = spawn(process.execPath, [BIN, 'reproduce', 'tiny', '--json'], { cwd: root, env: cliEnv({ CI: '1', MARKERS: markers }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const t0 = Date.now();
    while (!existsSync(join(markers, 'started')) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(existsSync(join(markers, 'got-sigint'))).toBe(true);
    expect(worktrees(root)).toHaveLength(1);
    expect(reproduceTemps()).toEqual(tempsBefore);
  });
});
