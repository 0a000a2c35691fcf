import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, writeFile } from '../helpers/temp-repo.js';
import { lifecycleRepo } from './lifecycle-helpers.js';

describe('diff', () => {
  it('files added/removed/changed with sizes, params, metrics with deltas, lineage', () => {
    const repo = lifecycleRepo();
    writeFile(repo, 'model/weights.bin', 'x'.repeat(100));
    writeFile(repo, 'model/config.json', '{"layers":4}');
    writeFile(repo, 'model/old.txt', 'old');
    writeFile(repo, 'data/train.csv', 'a,b\n1,2\n');
    const a = runCli(repo, ['commit', 'fraud', 'model', '--param', 'lr=0.1', '--param', 'opt=adam', '--metric', 'accuracy=0.91', '--metric', 'loss=0.3', '--metric', 'f1=0.8', '--data', 'data/train.csv', '--json']);
    expect(a.code, a.stderr).toBe(0);
    writeFile(repo, 'model/weights.bin', 'y'.repeat(150));
    writeFile(repo, 'model/new.txt', 'new!');
    writeFile(repo, 'data/more.csv', 'c\n3\n');
    rmSync(`${repo}/model/old.txt`);
    const b = runCli(repo, [
      'commit', 'fraud', 'model', '--param', 'lr=0.01', '--param', 'epochs=3', '--metric', 'accuracy=0.93', '--metric', 'loss=0.25', '--metric', 'auc=0.9',
      '--data', 'data/train.csv', '--data', 'data/more.csv', '--parent', 'fraud@v1', '--json',
    ]);
    expect(b.code, b.stderr).toBe(0);

    const r = runCli(repo, ['diff', 'fraud@v1', 'fraud@v2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = r.json();
    expect(d.a.number).toBe(1);
    expect(d.b.number).toBe(2);
    expect(d.identical).toBe(false);
    expect(d.files.added).toEqual([expect.objectContaining({ path: 'model/new.txt', size: 4 })]);
    expect(d.files.removed).toEqual([expect.objectContaining({ path: 'model/old.txt', size: 3 })]);
    expect(d.files.changed).toEqual([expect.objectContaining({ path: 'model/weights.bin', sizeBefore: 100, sizeAfter: 150, sizeDelta: 50 })]);
    expect(d.files.unchanged).toBe(1);
    expect(d.params).toEqual({
      added: [{ key: 'epochs', value: 3 }],
      removed: [{ key: 'opt', value: 'adam' }],
      changed: [{ key: 'lr', before: 0.1, after: 0.01 }],
      unchanged: 0,
    });
    expect(d.metrics.added).toEqual([{ key: 'auc', value: 0.9 }]);
    expect(d.metrics.removed).toEqual([{ key: 'f1', value: 0.8 }]);
    expect(d.metrics.changed).toEqual([
      expect.objectContaining({ key: 'accuracy', before: 0.91, after: 0.93, delta: 0.02 }),
      expect.objectContaining({ key: 'loss', before: 0.3, after: 0.25, delta: -0.05 }),
    ]);
    expect(d.lineage.parent).toMatchObject({ before: null, after: a.json().version.id, changed: true });
    expect(d.lineage.data.added).toEqual([expect.objectContaining({ source: 'data/more.csv' })]);
    expect(d.lineage.data.removed).toEqual([]);

    const human = runCli(repo, ['diff', 'fraud@v1', 'fraud@latest']);
    expect(human.code).toBe(0);
    for (const s of ['model/new.txt', 'model/old.txt', 'model/weights.bin', 'lr', 'accuracy', '+0.02']) expect(human.stdout).toContain(s);
    // The heading counts what it lists (it was "Files (1 unchanged):" above three changes).
    expect(human.stdout).toContain('Files (1 added, 1 removed, 1 changed, 1 unchanged):');
  });

  it('the same version is identical; unknown refs exit 3, malformed ones 2', () => {
    const repo = lifecycleRepo();
    writeFile(repo, 'model/w.bin', 'w');
    runCli(repo, ['commit', 'fraud', 'model', '--tag', 'base']);
    const r = runCli(repo, ['diff', 'fraud@base', 'fraud', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().identical).toBe(true);
    expect(runCli(repo, ['diff', 'fraud@v1', 'fraud@v2', '--json']).code).toBe(3);
    expect(runCli(repo, ['diff', 'fraud@v1', 'Bad Name', '--json']).code).toBe(2);
  });
});
