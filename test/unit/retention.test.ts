import { describe, expect, it } from 'vitest';
import { decideRetention, parseRetention, type RetentionCandidate } from '../../src/core/retention.js';

const STAGES = ['staging', 'production'];
import { parseDuration } from '../../src/core/time-filter.js';

const now = new Date('2026-06-01T00:00:00Z');
const day = 86_400_000;
function v(number: number, ageDays: number, extra: Partial<RetentionCandidate> = {}): RetentionCandidate {
  return { number, id: String(number).padStart(64, '0'), created: new Date(now.getTime() - ageDays * day).toISOString(), tags: [], stages: [], everHeld: [], ...extra };
}
const kept = (vs: ReturnType<typeof decideRetention>) => vs.filter((x) => x.keep).map((x) => x.number).sort((a, b) => a - b);

describe('retention decisions (core/retention.ts)', () => {
  it('keeps everything without a policy', () => {
    const out = decideRetention([v(1, 400), v(2, 300)], null, now);
    expect(kept(out)).toEqual([1, 2]);
    expect(out.every((x) => x.reasons.includes('no-policy'))).toBe(true);
  });

  it('keep_last keeps the newest N by number, and stages, tags and former production holders always', () => {
    const p = parseRetention('m', { keep_last: 2 }, STAGES);
    const out = decideRetention([v(1, 9, { tags: ['golden'] }), v(2, 8, { everHeld: ['production'] }), v(3, 7, { stages: ['staging'], everHeld: ['staging'] }), v(4, 6, { everHeld: ['staging'] }), v(5, 5), v(6, 4)], p, now);
    expect(kept(out)).toEqual([1, 2, 3, 5, 6]);
    const byNumber = new Map(out.map((x) => [x.number, x.reasons]));
    expect(byNumber.get(1)).toEqual(['tag:golden']);
    expect(byNumber.get(2)).toEqual(['ever-held:production']);
    expect(byNumber.get(3)).toEqual(['stage:staging']);
    expect(byNumber.get(4)).toEqual([]);
  });

  it('keep_newer_than keeps by age; with both rules a version goes only when neither keeps it', () => {
    const p = parseRetention('m', { keep_last: 1, keep_newer_than: '30d' }, STAGES);
    const out = decideRetention([v(1, 90), v(2, 40), v(3, 10), v(4, 1)], p, now);
    expect(kept(out)).toEqual([3, 4]);
    expect(out.find((x) => x.number === 4)!.reasons).toEqual(['keep_last', 'keep_newer_than']);
  });

  it('keep_ever_held [] lets former production holders go; a policy naming no rule is refused', () => {
    const p = parseRetention('m', { keep_last: 0, keep_ever_held: [] }, STAGES);
    expect(kept(decideRetention([v(1, 1, { everHeld: ['production'] })], p, now))).toEqual([]);
    expect(() => parseRetention('m', {}, STAGES)).toThrow(expect.objectContaining({ code: 'INVALID_RETENTION' }));
    expect(() => parseRetention('m', { keep_last: -1 }, STAGES)).toThrow(expect.objectContaining({ code: 'INVALID_RETENTION' }));
    // A mistyped stage would silently protect nothing.
    expect(() => parseRetention('m', { keep_last: 3, keep_ever_held: ['prod'] }, STAGES)).toThrow(expect.objectContaining({ code: 'INVALID_RETENTION', message: expect.stringContaining("'prod'") }));
  });

  it('durations: 0s is allowed, weeks and years are understood', () => {
    expect(parseDuration('0s', '--grace', 0)).toBe(0);
    expect(parseDuration('2w', 'x')).toBe(14 * day);
    expect(parseDuration('7y', 'x')).toBe(7 * 365 * day);
    expect(() => parseDuration('soon', 'x', 0)).toThrow();
  });
});

describe('DigestSet (core/digest-set.ts)', () => {
  it('holds what was added, through growth, and nothing else', async () => {
    const { DigestSet } = await import('../../src/core/digest-set.js');
    const { createHash } = await import('node:crypto');
    const d = (i: number) => createHash('sha256').update(String(i)).digest('hex');
    const s = new DigestSet(4);
    for (let i = 0; i < 5000; i++) s.add(d(i)).add(d(i));
    expect(s.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(s.has(d(i))).toBe(true);
    for (let i = 5000; i < 6000; i++) expect(s.has(d(i))).toBe(false);
    expect(s.has('not-a-digest')).toBe(false);
    // Only the first half is kept, but the whole digest must be hex to be added or found.
    const half = d(1).slice(0, 32);
    expect(s.add(`${half}${'z'.repeat(32)}`).size).toBe(5000);
    expect(s.has(`${half}${'z'.repeat(32)}`)).toBe(false);
  });
});
