import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, writeFile } from '../helpers/temp-repo.js';
import { git, mc, trainingRepo } from './repro-helpers.js';
import { worktrees, reproduceTemps, run } from '../helpers/reproduce.js';

/**
 * `modelctl reproduce` (docs/design.md §14): the deterministic training job rebuilds
 * bit-identical (exit 0), the clock-seeded one does not (exit 4, with per-file differences
 * and metric deltas); changed data is reported; a dirty recorded tree is refused unless
 * --allow-dirty; nothing is left behind unless --keep; Ctrl-C removes the worktree too.
 */

describe('modelctl reproduce', () => {
  it('rebuilds a deterministic run bit for bit and leaves nothing behind (exit 0)', () => {
    const root = trainingRepo();
    run(root, '--log', '--', 'node', 'train.js', '--seed', '7');
    const weights = readFileSync(join(root, 'model/weights.bin'));
    const gitStatus = git(root, 'status', '--porcelain');
    const events = mc(root, 'history').json().length;
    const tempsBefore = reproduceTemps();

    // TRAIN_HOLD_MS: the job lives 0.5 s, so its memory is sampled even on a busy machine (README, Reproducibility).
    const r = runCli(root, ['reproduce', '--json', 'tiny'], { env: { TRAIN_HOLD_MS: '500' } });
    expect(r.code, r.stderr).toBe(0);
    const report = r.json();
    expect(report.identical).toBe(true);
    expect(report.reproduced).toBe(true);
    expect(report.files).toMatchObject({ added: [], removed: [], changed: [], unchanged: 2 });
    expect(report.log).toBe('logs/tiny.log');
    expect(report.data).toEqual([expect.objectContaining({ source: 'data/train.csv', status: 'match', from: 'repository' })]);
    expect(report.metrics.changed).toEqual([]);
    expect(report.metrics.unchanged).toBe(3);
    expect(report.command).toEqual(['node', 'train.js', '--seed', '7']);
    expect(report.run.exitCode).toBe(0);
    expect(report.run.peakMemory.bytes).toBeGreaterThan(0);

    // Nothing left: no worktree, no temp folder, the user's files and git state untouched.
    expect(existsSync(report.worktree)).toBe(false);
    expect(worktrees(root)).toHaveLength(1);
    expect(reproduceTemps()).toEqual(tempsBefore);
    expect(readFileSync(join(root, 'model/weights.bin')).equals(weights)).toBe(true);
    expect(git(root, 'status', '--porcelain')).toBe(gitStatus);
    expect(mc(root, 'history').json().length).toBe(events);
  });

  it('a run seeded from the clock does not reproduce: exit 4 with the files that differ and metric deltas', () => {
    const root = trainingRepo();
    run(root, '--', 'node', 'train.js', '--seed', 'clock');
    const r = mc(root, 'reproduce', 'tiny@v1');
    expect(r.code).toBe(4);
    expect(r.error().code).toBe('NOT_REPRODUCED');
    const report = r.json();
    expect(report.identical).toBe(false);
    expect(report.reproduced).toBe(false);
    expect(report.dataMatches).toBe(true);
    expect(report.files.changed.map((f: { path: string }) => f.path)).toEqual(['model/config.json', 'model/weights.bin']);
    const w = report.metrics.changed.find((m: { key: string }) => m.key === 'w');
    expect(w).toBeDefined();
    expect(typeof w.delta).toBe('number');
    expect(w.delta).toBeCloseTo(w.after - w.before, 9);
    expect(worktrees(root)).toHaveLength(1);
    expect(existsSync(report.worktree)).toBe(false);
  });

  it('refuses a version trained from a dirty tree (exit 5) unless --allow-dirty', () => {
    const root = trainingRepo();
    writeFile(root, 'train.js', `${readFileSync(join(root, 'train.js'), 'utf8')}\n// an uncommitted comment\n`);
    run(root, '--', 'node', 'train.js', '--seed', '5');
    const refused = mc(root, 'reproduce', 'tiny');
    expect(refused.code).toBe(5);
    expect(refused.error().code).toBe('DIRTY_RECORDED_TREE');
    expect(worktrees(root)).toHaveLength(1);
    // The uncommitted change was a comment: the committed code rebuilds the same bytes.
    const allowed = mc(root, 'reproduce', 'tiny', '--allow-dirty');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.json().identical).toBe(true);
  });

  it('refuses a version not made by run (exit 2) and a recorded commit git does not have (exit 3)', () => {
    const root = trainingRepo();
    run(root, '--', 'node', 'train.js', '--seed', '7');
    writeFile(root, 'model/extra.txt', 'x');
    expect(runCli(root, ['commit', 'tiny']).code).toBe(0);
    const notRun = mc(root, 'reproduce', 'tiny@v2');
    expect(notRun.code).toBe(2);
    expect(notRun.error().code).toBe('NOT_A_RUN');
    // Rewrite history so the recorded commit is gone.
    git(root, 'commit', '-q', '--amend', '-m', 'rewritten');
    git(root, 'reflog', 'expire', '--expire=now', '--all');
    git(root, 'gc', '-q', '--prune=now');
    const gone = mc(root, 'reproduce', 'tiny@v1');
    expect(gone.code).toBe(3);
    expect(gone.error().code).toBe('GIT_COMMIT_NOT_FOUND');
  });
});
