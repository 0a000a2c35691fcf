import { describe, expect, it } from 'vitest';
import { ExitCode, ModelctlError } from '../../src/errors.js';
import { replayStageStack, rollbackTarget, type StageMove } from '../../src/core/stage-moves.js';
import { parseSince } from '../../src/core/time-filter.js';

const p = (v: string): StageMove => ({ versionId: v, action: 'promote' });
const r = (v: string): StageMove => ({ versionId: v, action: 'rollback' });

describe('rollback rule (stage history as a stack of arrivals)', () => {
  it('goes to the holder before the current holder arrived', () => {
    expect(rollbackTarget([p('A'), p('B'), p('C')], 'C')).toBe('B');
  });
  it('repeated rollbacks walk further back instead of flipping', () => {
    const moves = [p('A'), p('B'), p('C'), r('B')];
    expect(rollbackTarget(moves, 'B')).toBe('A');
    expect(rollbackTarget([...moves, r('A')], 'A')).toBeNull();
  });
  it('a promotion after a rollback is undone by the next rollback', () => {
    expect(rollbackTarget([p('A'), p('B'), r('A'), p('D')], 'D')).toBe('A');
  });
  it('rollback --to X replaces the current holder; the next rollback goes below it', () => {
    const moves = [p('A'), p('B'), p('C'), r('A')];
    expect(replayStageStack(moves)).toEqual(['A', 'B', 'A']);
    expect(rollbackTarget(moves, 'A')).toBe('B');
  });
  it('re-promoting the holder is not a new arrival; a cleared stage resets', () => {
    expect(replayStageStack([p('A'), p('A'), p('B')])).toEqual(['A', 'B']);
    expect(replayStageStack([p('A'), { versionId: null, action: null }, p('B')])).toEqual(['B']);
  });
  it('nothing before the first holder; a history that misses the holder still works', () => {
    expect(rollbackTarget([p('A')], 'A')).toBeNull();
    expect(rollbackTarget([], 'A')).toBeNull();
    expect(rollbackTarget([p('A'), p('B')], 'Z')).toBe('B');
  });
  it('moves with an unknown action (event not local) count as arrivals', () => {
    expect(rollbackTarget([{ versionId: 'A', action: null }, { versionId: 'B', action: null }], 'B')).toBe('A');
  });
});

describe('parseSince', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  it('reads dates, date-times and ages', () => {
    expect(parseSince('2026-11-01', now)).toBe('2026-11-01T00:00:00.000Z');
    expect(parseSince('2026-11-01T08:30', now)).toBe('2026-11-01T08:30:00.000Z');
    expect(parseSince('2026-11-01 08:30:15Z', now)).toBe('2026-11-01T08:30:15.000Z');
    expect(parseSince('2026-11-01T08:30:00+02:00', now)).toBe('2026-11-01T06:30:00.000Z');
    expect(parseSince('7d', now)).toBe('2026-11-21T12:00:00.000Z');
    expect(parseSince('12h', now)).toBe('2026-11-28T00:00:00.000Z');
    expect(parseSince('30m', now)).toBe('2026-11-28T11:30:00.000Z');
    expect(parseSince('2w', now)).toBe('2026-11-14T12:00:00.000Z');
  });
  it.each(['yesterday', '2026-13-45', '7 parsecs', ''])('rejects %j with exit 2', (text) => {
    let code: number | null = null;
    try {
      parseSince(text, now);
    } catch (err) {
      code = err instanceof ModelctlError ? err.exitCode : -1;
    }
    expect(code).toBe(ExitCode.USAGE);
  });
});
