import { describe, expect, it } from 'vitest';
import { diffFiles, diffMetrics, diffValues } from '../../src/core/version-diff.js';

const f = (path: string, size: number, digest: string, mode = 0o644) => ({ path, size, digest, mode });

describe('diffFiles', () => {
  it('reports added, removed and changed files with sizes before and after', () => {
    const d = diffFiles(
      [f('a.bin', 10, 'aa'), f('b.bin', 20, 'bb'), f('same.txt', 5, 'ss'), f('run.sh', 3, 'rr', 0o644)],
      [f('a.bin', 14, 'a2'), f('c.bin', 30, 'cc'), f('same.txt', 5, 'ss'), f('run.sh', 3, 'rr', 0o755)],
    );
    expect(d.added).toEqual([f('c.bin', 30, 'cc')]);
    expect(d.removed).toEqual([f('b.bin', 20, 'bb')]);
    expect(d.changed).toEqual([
      { path: 'a.bin', sizeBefore: 10, sizeAfter: 14, sizeDelta: 4, digestBefore: 'aa', digestAfter: 'a2', modeBefore: 0o644, modeAfter: 0o644 },
      { path: 'run.sh', sizeBefore: 3, sizeAfter: 3, sizeDelta: 0, digestBefore: 'rr', digestAfter: 'rr', modeBefore: 0o644, modeAfter: 0o755 },
    ]);
    expect(d.unchanged).toBe(1);
  });
});

describe('diffValues / diffMetrics', () => {
  it('params: added, removed, changed (typed compare, nested values)', () => {
    const d = diffValues({ lr: 0.1, epochs: 10, opt: 'adam', betas: [0.9, 0.99] }, { lr: 0.01, epochs: '10', betas: [0.9, 0.99], seed: 1 });
    expect(d.added).toEqual([{ key: 'seed', value: 1 }]);
    expect(d.removed).toEqual([{ key: 'opt', value: 'adam' }]);
    expect(d.changed).toEqual([
      { key: 'epochs', before: 10, after: '10' },
      { key: 'lr', before: 0.1, after: 0.01 },
    ]);
    expect(d.unchanged).toBe(1);
  });
  it('metrics: numeric deltas (rounded), relative change, null for non-numbers', () => {
    const d = diffMetrics({ accuracy: 0.91, loss: 0.2, note: 'a', zero: 0 }, { accuracy: 0.93, loss: 0.25, note: 'b', zero: 1 });
    const by = Object.fromEntries(d.changed.map((c) => [c.key, c]));
    expect(by.accuracy.delta).toBe(0.02);
    expect(by.accuracy.relative).toBeCloseTo(0.02 / 0.91, 10);
    expect(by.loss.delta).toBe(0.05);
    expect(by.note.delta).toBeNull();
    expect(by.zero.delta).toBe(1);
    expect(by.zero.relative).toBeNull();
  });
});
