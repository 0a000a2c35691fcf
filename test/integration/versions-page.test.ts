/**
 * The versions page engine (api/versions-page.ts) against a plain sort in the test: every page
 * of every sort, both directions, with versions that lack the metric (they come last either
 * way, newest first), ties broken by number, filters and the total.
 */
import { describe, expect, it } from 'vitest';
import { commit } from '../../src/api/commit.js';
import { tag } from '../../src/api/tag.js';
import { versionsPage } from '../../src/api/versions-page.js';
import { tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('versions page', () => {
  it('pages through every sort exactly as a full sort would, metric-less versions last', async () => {
    const root = tempRepo();
    // 13 versions: score repeats (ties), versions 4, 9 and 13 have none.
    const score: Record<number, number | undefined> = {};
    for (let n = 1; n <= 13; n++) {
      score[n] = [4, 9, 13].includes(n) ? undefined : [0.5, 0.7, 0.5, 0, 0.9, 0.7, 0.1, 0.5, 0, 0.3, 0.9, 0.2, 0][n - 1];
      writeFile(root, 'm/w.bin', `w${n}`);
      await commit({ cwd: root, model: 'm', paths: ['m/'], message: `v${n}`, metrics: score[n] === undefined ? ['other=1'] : [`score=${score[n]}`] });
    }
    await tag({ cwd: root, ref: 'm@v5', name: 'best' });
    const numbers = Object.keys(score).map(Number);
    const expected = (desc: boolean) => {
      const withIt = numbers.filter((n) => score[n] !== undefined).sort((a, b) => (desc ? score[b]! - score[a]! : score[a]! - score[b]!) || b - a);
      const without = numbers.filter((n) => score[n] === undefined).sort((a, b) => b - a);
      return [...withIt, ...without];
    };
    for (const desc of [true, false]) {
      for (const limit of [1, 3, 5, 13, 50]) {
        const seen: number[] = [];
        for (let offset = 0; offset < 15; offset += limit) {
          const page = await versionsPage({ cwd: root, model: 'm', sort: `${desc ? '-' : ''}score`, limit, offset });
          expect(page.total).toBe(13);
          seen.push(...page.versions.map((v) => v.number));
        }
        expect(seen, `desc=${desc} limit=${limit}`).toEqual(expected(desc));
      }
    }
    // An offset past the versions with the metric lands among those without.
    expect((await versionsPage({ cwd: root, model: 'm', sort: '-score', limit: 2, offset: 11 })).versions.map((v) => v.number)).toEqual([9, 4]);
    expect((await versionsPage({ cwd: root, model: 'm', sort: 'totalSize', limit: 2 })).versions).toHaveLength(2);
    expect((await versionsPage({ cwd: root, model: 'm', sort: '-score', tag: 'best' })).versions.map((v) => v.number)).toEqual([5]);
    expect((await versionsPage({ cwd: root, model: 'm', sort: '-score', limit: 3 })).versions[0].metrics).toEqual({ score: 0.9 });
  });
});
