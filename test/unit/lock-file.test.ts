import { describe, expect, it } from 'vitest';
import { parseLockBytes, serializeLock, type LockFile, type LockedModel } from '../../src/workspace/lock-file.js';

/** modelctl.lock's text form and its git merge handling (docs/design.md §14), without a disk. */

const id = (c: string) => c.repeat(64);
const entry = (c: string, number: number, files: Record<string, string> = { 'model/w.bin': id('d') }): LockedModel => ({ version: id(c), number, files });
const lock = (models: Record<string, LockedModel>): LockFile => ({ format: 1, models });
const parse = (text: string) => parseLockBytes(Buffer.from(text));

/** What git writes for a conflict between `ours` and `theirs` over the lines that differ. */
function gitConflict(ours: string, theirs: string, diff3 = false): string {
  const a = ours.split('\n');
  const b = theirs.split('\n');
  let start = 0;
  while (start < a.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  return [
    ...a.slice(0, start),
    '<<<<<<< HEAD',
    ...a.slice(start, a.length - end),
    ...(diff3 ? ['||||||| base', '    "old": "lines"'] : []),
    '=======',
    ...b.slice(start, b.length - end),
    '>>>>>>> feature',
    ...a.slice(a.length - end),
  ].join('\n');
}

describe('modelctl.lock', () => {
  it('serializes as sorted, indented, valid JSON that parses back to the same lock', () => {
    const l = lock({ zeta: entry('b', 2, { 'b.bin': id('1'), 'a.bin': id('2') }), alpha: entry('a', 1) });
    const text = serializeLock(l);
    expect(JSON.parse(text)).toEqual(l);
    expect(text.indexOf('"alpha"')).toBeLessThan(text.indexOf('"zeta"'));
    expect(text.indexOf('"a.bin"')).toBeLessThan(text.indexOf('"b.bin"'));
    const parsed = parse(text);
    expect(parsed).toEqual({ kind: 'clean', lock: l });
    expect(serializeLock(lock({}))).toBe('{\n  "format": 1,\n  "models": {\n  }\n}\n');
    expect(parse(serializeLock(lock({})))).toEqual({ kind: 'clean', lock: lock({}) });
  });

  it('finds the models two branches locked differently in a git conflict, plain or diff3', () => {
    const ours = serializeLock(lock({ fraud: entry('a', 3) }));
    const theirs = serializeLock(lock({ fraud: entry('b', 2) }));
    for (const diff3 of [false, true]) {
      const state = parse(gitConflict(ours, theirs, diff3));
      expect(state.kind).toBe('conflicted');
      if (state.kind !== 'conflicted') return;
      expect(state.conflicts).toEqual([{ model: 'fraud', ours: entry('a', 3), theirs: entry('b', 2) }]);
      expect(state.labels).toEqual({ ours: 'HEAD', theirs: 'feature' });
      expect(state.lock.models).toEqual({});
    }
  });

  it('keeps what both sides agree on, and models only one side has, out of the conflict', () => {
    const ours = serializeLock(lock({ a: entry('1', 1), b: entry('2', 5), c: entry('3', 1) }));
    const theirs = serializeLock(lock({ a: entry('1', 1), b: entry('4', 6), d: entry('5', 2) }));
    const state = parse(gitConflict(ours, theirs));
    expect(state.kind).toBe('conflicted');
    if (state.kind !== 'conflicted') return;
    expect(state.conflicts.map((c) => c.model)).toEqual(['b']);
    expect(Object.keys(state.lock.models).sort()).toEqual(['a', 'c', 'd']);
    // Two branches that each added another model conflict in git's eyes, not in the lock's.
    const added = parse(gitConflict(serializeLock(lock({ a: entry('1', 1) })), serializeLock(lock({ b: entry('2', 1) }))));
    expect(added).toEqual({ kind: 'clean', lock: lock({ a: entry('1', 1), b: entry('2', 1) }) });
  });

  it('writes unresolved conflicts back between markers, so resolving one model keeps the others for later', () => {
    const conflicts = [
      { model: 'b', ours: entry('2', 5), theirs: entry('4', 6) },
      { model: 'z', ours: entry('6', 1), theirs: null },
    ];
    const text = serializeLock(lock({ a: entry('1', 1) }), conflicts, { ours: 'HEAD', theirs: 'feature' });
    expect(text).toMatch(/^<{7} HEAD$/m);
    const state = parse(text);
    expect(state.kind).toBe('conflicted');
    if (state.kind !== 'conflicted') return;
    // z exists on one side only: it is no conflict once read back.
    expect(state.conflicts).toEqual([conflicts[0]]);
    expect(state.lock.models).toEqual({ a: entry('1', 1), z: entry('6', 1) });
  });

  it('refuses what is not a lock (exit 2): junk, bad ids, unsafe paths, an unclosed conflict', () => {
    for (const text of [
      'not json',
      '{"format":2,"models":{}}',
      '{"format":1,"models":{"Bad Name":{"version":"' + id('a') + '","number":1,"files":{}}}}',
      '{"format":1,"models":{"m":{"version":"abc","number":1,"files":{}}}}',
      '{"format":1,"models":{"m":{"version":"' + id('a') + '","number":1,"files":{"../etc/passwd":"' + id('b') + '"}}}}',
      '{"format":1,"models":{\n<<<<<<< HEAD\n}}',
    ]) {
      expect(() => parse(text), text).toThrow(expect.objectContaining({ code: 'INVALID_LOCK', exitCode: 2 }));
    }
  });
});
