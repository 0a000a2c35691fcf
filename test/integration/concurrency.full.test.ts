import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCliAsync, type AsyncRun } from './lifecycle-helpers.js';

/**
 * Eight processes committing, tagging and promoting on one repository, round after round.
 * Decision (asserted here): with no real conflict in the workload every command exits 0 —
 * the index's busy timeout (30 s) and IMMEDIATE transactions serialise writers, so no
 * SQLITE_BUSY/"locked" error ever reaches the user. The only non-zero exit allowed is the
 * documented one for a real conflict: two processes creating the same tag → one 0, the
 * rest 4 (TAG_EXISTS). Every successful command leaves exactly one event; the chain verifies.
 */
const WORKERS = 8;
const ROUNDS = Number(process.env.MODELCTL_CONCURRENCY_ROUNDS ?? 4);

interface Outcome {
  worker: number;
  round: number;
  action: 'commit' | 'tag' | 'promote' | 'race-tag';
  run: AsyncRun;
}

function lockLeak(r: AsyncRun): boolean {
  return /SQLITE_BUSY|SQLITE_LOCKED|database is locked|INDEX_LOCKED/i.test(r.stderr + r.stdout);
}

describe('8 processes on one repository', () => {
  it('commit, tag and promote for many rounds: no lock error reaches the user, no event is lost, history verifies', async () => {
    const repo = tempRepo();
    const outcomes: Outcome[] = [];
    const worker = async (w: number) => {
      for (let round = 0; round < ROUNDS; round++) {
        // Fresh content each round (a few hundred KiB: hashing overlaps other writers).
        writeFile(repo, `w${w}/weights.bin`, pseudoRandomBytes(200_000 + round, w * 1000 + round + 1));
        const model = w % 2 === 0 ? 'shared' : `solo-${w}`;
        const c = await runCliAsync(repo, ['commit', model, `w${w}`, '-m', `w${w} r${round}`, '--json'], { timeoutMs: 120_000 });
        outcomes.push({ worker: w, round, action: 'commit', run: c });
        if (c.code !== 0) continue;
        const id = JSON.parse(c.stdout).version.id as string;
        const t = await runCliAsync(repo, ['tag', `${model}@${id}`, `w${w}-r${round}`, '--json'], { timeoutMs: 120_000 });
        outcomes.push({ worker: w, round, action: 'tag', run: t });
        const p = await runCliAsync(repo, ['promote', `${model}@${id}`, '--to', 'staging', '--yes', '--json'], { timeoutMs: 120_000 });
        outcomes.push({ worker: w, round, action: 'promote', run: p });
        // A real conflict: every worker tags the round's winner with the same name.
        const r = await runCliAsync(repo, ['tag', `${model}@${id}`, `race-${round}`, '--json'], { timeoutMs: 120_000 });
        outcomes.push({ worker: w, round, action: 'race-tag', run: r });
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    const leaks = outcomes.filter((o) => lockLeak(o.run) || o.run.timedOut);
    expect(leaks.map((o) => `${o.action} w${o.worker} r${o.round}: ${o.run.stderr}`)).toEqual([]);
    const unexpected = outcomes.filter((o) => (o.action === 'race-tag' ? ![0, 4].includes(o.run.code ?? -1) : o.run.code !== 0));
    expect(unexpected.map((o) => `${o.action} w${o.worker} r${o.round} exit ${o.run.code}: ${o.run.stderr}`)).toEqual([]);
    for (const o of outcomes.filter((x) => x.action === 'race-tag' && x.run.code === 4)) {
      expect(JSON.parse(o.run.stderr.trim().split('\n').pop() as string).error.code).toBe('TAG_EXISTS');
    }
    // Per model and round, exactly one worker won the racing tag (`shared` has 4 racers; solo models 1 each).
    for (let round = 0; round < ROUNDS; round++) {
      const sharedRacers = outcomes.filter((o) => o.action === 'race-tag' && o.round === round && o.worker % 2 === 0);
      expect(sharedRacers.filter((o) => o.run.code === 0)).toHaveLength(1);
    }

    const ok = (a: Outcome['action']) => outcomes.filter((o) => o.action === a && o.run.code === 0);
    const created = ok('commit').filter((o) => JSON.parse(o.run.stdout).created === true);
    expect(created).toHaveLength(WORKERS * ROUNDS);
    const promoted = ok('promote').filter((o) => JSON.parse(o.run.stdout).changed !== false);

    const db = new Database(join(repo, '.modelctl', 'index.db'), { readonly: true });
    try {
      const count = (action: string) => (db.prepare('SELECT COUNT(*) AS n FROM events WHERE action = ?').get(action) as { n: number }).n;
      expect(count('commit')).toBe(created.length);
      expect(count('tag')).toBe(ok('tag').length + ok('race-tag').length);
      expect(count('promote')).toBe(promoted.length);
      // Each reported event id is in the chain: none lost, none duplicated.
      const ids = new Set((db.prepare('SELECT id FROM events').all() as { id: string }[]).map((r) => r.id));
      for (const o of ok('promote')) {
        const ev = JSON.parse(o.run.stdout).event;
        if (ev) expect(ids.has(ev.id)).toBe(true);
      }
      // Version numbers per model are 1..N with no gap or duplicate.
      for (const { name } of db.prepare('SELECT name FROM models').all() as { name: string }[]) {
        const nums = (db.prepare('SELECT v.number AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.number').all(name) as { n: number }[]).map((r) => r.n);
        expect(nums).toEqual(nums.map((_, i) => i + 1));
      }
      expect((db.prepare('SELECT COUNT(*) AS n FROM versions').get() as { n: number }).n).toBe(WORKERS * ROUNDS);
    } finally {
      db.close();
    }
    const h = runCli(repo, ['history', '--verify', '--json']);
    expect(h.code, h.stderr).toBe(0);
    const v = runCli(repo, ['verify']);
    expect(v.code, v.stderr).toBe(0);
  }, 300_000);
});
