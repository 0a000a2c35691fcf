import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/temp-repo.js';
import { commitVersion, lifecycleRepo } from './lifecycle-helpers.js';

interface EventJson {
  seq: number;
  id: string;
  at: string;
  action: string;
  model: string | null;
  version: string | null;
  hash: string;
  prevHash: string;
  data: Record<string, unknown>;
}

/** A repository with 6 events: commit, commit, tag, promote, promote (fraud) and commit (other). */
async function repoWithHistory(): Promise<string> {
  const repo = lifecycleRepo();
  await commitVersion(repo);
  await commitVersion(repo);
  expect(runCli(repo, ['tag', 'fraud@v1', 'baseline']).code).toBe(0);
  expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'staging']).code).toBe(0);
  expect(runCli(repo, ['promote', 'fraud@v2', '--to', 'staging']).code).toBe(0);
  await commitVersion(repo, 'other');
  return repo;
}

/** Edits index.db behind modelctl's back, as an attacker or a careless script would. */
function tamper(repo: string, fn: (db: Database.Database) => void): void {
  const db = new Database(join(repo, '.modelctl', 'index.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function verifyFailure(repo: string): { code: number; firstBad: { seq: number | null; id: string | null; reason: string; position: number } } {
  const r = runCli(repo, ['history', '--verify', '--json']);
  const err = r.code === 0 ? null : (r.error() as unknown as { code: string; data: { firstBad: { seq: number | null; id: string | null; reason: string; position: number } } });
  if (err) expect(err.code).toBe('AUDIT_CHAIN_BROKEN');
  return { code: r.code, firstBad: err?.data.firstBad as never };
}

const idOf = (db: Database.Database, seq: number) => (db.prepare('SELECT id FROM events WHERE seq = ?').get(seq) as { id: string }).id;

describe('history', () => {
  it('lists events oldest first with their chain links; --json is an array', async () => {
    const repo = await repoWithHistory();
    const r = runCli(repo, ['history', '--json']);
    expect(r.code).toBe(0);
    const events = r.json() as EventJson[];
    expect(events.map((e) => e.action)).toEqual(['commit', 'commit', 'tag', 'promote', 'promote', 'commit']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0].prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);
    for (const e of events) {
      expect(e).toEqual(expect.objectContaining({ id: expect.stringMatching(/^[0-9a-f]{64}$/), actor: expect.any(String), host: expect.any(String), argv: expect.any(Array) }));
      expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const human = runCli(repo, ['history']);
    expect(human.code).toBe(0);
    expect(human.stdout.trim().split('\n')).toHaveLength(7);
  });

  it('filters by model, stage and --since', async () => {
    const repo = await repoWithHistory();
    expect((runCli(repo, ['history', 'other', '--json']).json() as EventJson[]).map((e) => e.action)).toEqual(['commit']);
    const staging = runCli(repo, ['history', 'fraud', '--stage', 'staging', '--json']).json() as EventJson[];
    expect(staging.map((e) => [e.action, e.data.number])).toEqual([
      ['promote', 1],
      ['promote', 2],
    ]);
    expect(runCli(repo, ['history', '--stage', 'production', '--json']).json()).toEqual([]);
    // A typo'd stage is no empty list (it said "No events", as if the stage never moved).
    const typo = runCli(repo, ['history', 'fraud', '--stage', 'stagign', '--json']);
    expect(typo.code).toBe(2);
    expect(typo.error().code).toBe('UNKNOWN_STAGE');
    expect(typo.error().message).toContain("'staging'");
    expect((runCli(repo, ['history', '--since', '1h', '--json']).json() as EventJson[]).length).toBe(6);
    expect(runCli(repo, ['history', '--since', '2999-01-01', '--json']).json()).toEqual([]);
    expect((runCli(repo, ['history', '--since', '2000-01-01', '--json']).json() as EventJson[]).length).toBe(6);
    expect(runCli(repo, ['history', '--since', 'last tuesday', '--json']).code).toBe(2);
    expect(runCli(repo, ['history', 'nope', '--json']).code).toBe(3);
    // A stage no longer configured but with events still lists them.
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ stages: ['production'] }));
    expect((runCli(repo, ['history', 'fraud', '--stage', 'staging', '--json']).json() as EventJson[]).length).toBe(2);
  });

  it('--verify passes on an untouched chain (and on an empty one)', async () => {
    const repo = await repoWithHistory();
    const r = runCli(repo, ['history', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json() as unknown[]).length).toBe(6);
    const human = runCli(repo, ['history', 'fraud', '--verify']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('verified');
    expect(runCli(lifecycleRepo(), ['history', '--verify', '--json']).code).toBe(0);
  });
});

describe('history --verify detects tampering (exit 6, first bad event named)', () => {
  it('an edited payload', async () => {
    const repo = await repoWithHistory();
    let id = '';
    tamper(repo, (db) => {
      const row = db.prepare('SELECT payload FROM events WHERE seq = 3').get() as { payload: string };
      const e = JSON.parse(row.payload);
      e.actor = 'someone-else@example.com';
      db.prepare('UPDATE events SET payload = ? WHERE seq = 3').run(JSON.stringify(e));
      id = idOf(db, 3);
    });
    const { code, firstBad } = verifyFailure(repo);
    expect(code).toBe(6);
    expect(firstBad).toMatchObject({ seq: 3, id, reason: 'hash-mismatch', position: 3 });
    // The listing still works without --verify, and a filter does not hide the break.
    expect(runCli(repo, ['history', '--json']).code).toBe(0);
    expect(runCli(repo, ['history', 'other', '--verify', '--json']).code).toBe(6);
  });

  it('an edited payload with its hash recomputed is caught by its content id', async () => {
    const repo = await repoWithHistory();
    const { chainHash } = await import('../../src/core/events.js');
    let id = '';
    tamper(repo, (db) => {
      const row = db.prepare('SELECT payload, prev_hash FROM events WHERE seq = 4').get() as { payload: string; prev_hash: string };
      const forged = row.payload.replace('"staging"', '"production"');
      expect(forged).not.toBe(row.payload);
      db.prepare('UPDATE events SET payload = ?, hash = ? WHERE seq = 4').run(forged, chainHash(row.prev_hash, forged));
      id = idOf(db, 4);
    });
    const { code, firstBad } = verifyFailure(repo);
    expect(code).toBe(6);
    expect(firstBad).toMatchObject({ seq: 4, id, reason: 'payload-mismatch' });
  });

  it('a fully re-forged event (new id, hash) breaks the link to the next one', async () => {
    const repo = await repoWithHistory();
    const { chainHash, eventContentId, eventPayload } = await import('../../src/core/events.js');
    let nextId = '';
    tamper(repo, (db) => {
      const row = db.prepare('SELECT payload, prev_hash FROM events WHERE seq = 4').get() as { payload: string; prev_hash: string };
      const e = JSON.parse(row.payload);
      e.reason = 'approved by the board';
      e.id = eventContentId(e);
      const forged = eventPayload(e);
      db.prepare('UPDATE events SET id = ?, payload = ?, hash = ? WHERE seq = 4').run(e.id, forged, chainHash(row.prev_hash, forged));
      nextId = idOf(db, 5);
    });
    const { code, firstBad } = verifyFailure(repo);
    expect(code).toBe(6);
    expect(firstBad).toMatchObject({ seq: 5, id: nextId, reason: 'broken-link' });
  });

  it('an edited column (actor, action or version) that disagrees with the payload', async () => {
    for (const [column, value] of [
      ['actor', 'mallory@example.com'],
      ['action', 'rollback'],
      ['version_id', 'f'.repeat(64)],
    ]) {
      const repo = await repoWithHistory();
      tamper(repo, (db) => db.prepare(`UPDATE events SET ${column} = ? WHERE seq = 4`).run(value));
      const { code, firstBad } = verifyFailure(repo);
      expect(code, column).toBe(6);
      expect(firstBad, column).toMatchObject({ seq: 4, reason: 'payload-mismatch' });
    }
  });

  it('a deleted middle row', async () => {
    const repo = await repoWithHistory();
    let id = '';
    tamper(repo, (db) => {
      id = idOf(db, 4);
      db.prepare('DELETE FROM events WHERE seq = 3').run();
    });
    const { code, firstBad } = verifyFailure(repo);
    expect(code).toBe(6);
    expect(firstBad).toMatchObject({ seq: 4, id, reason: 'broken-link', position: 3 });
  });

  it('a deleted first row', async () => {
    const repo = await repoWithHistory();
    tamper(repo, (db) => db.prepare('DELETE FROM events WHERE seq = 1').run());
    const { code, firstBad } = verifyFailure(repo);
    expect(code).toBe(6);
    expect(firstBad).toMatchObject({ seq: 2, reason: 'broken-link', position: 1 });
  });

  it('a deleted last row (caught by the recorded chain head)', async () => {
    const repo = await repoWithHistory();
    tamper(repo, (db) => db.prepare('DELETE FROM events WHERE seq = 6').run());
    const { code, firstBad } = verifyFailure(repo);
    expect(code).toBe(6);
    expect(firstBad).toMatchObject({ reason: 'missing-tail', position: 6, seq: null, id: null });
  });

  it('reordered events: swapped payloads, or whole rows swapped', async () => {
    const repo = await repoWithHistory();
    tamper(repo, (db) => {
      const a = db.prepare('SELECT payload FROM events WHERE seq = 2').get() as { payload: string };
      const b = db.prepare('SELECT payload FROM events WHERE seq = 3').get() as { payload: string };
      db.prepare('UPDATE events SET payload = ? WHERE seq = 2').run(b.payload);
      db.prepare('UPDATE events SET payload = ? WHERE seq = 3').run(a.payload);
    });
    const swapped = verifyFailure(repo);
    expect(swapped.code).toBe(6);
    expect(swapped.firstBad).toMatchObject({ seq: 2 });

    const repo2 = await repoWithHistory();
    tamper(repo2, (db) => {
      db.prepare('UPDATE events SET seq = 100 WHERE seq = 2').run();
      db.prepare('UPDATE events SET seq = 2 WHERE seq = 3').run();
      db.prepare('UPDATE events SET seq = 3 WHERE seq = 100').run();
    });
    const rows = verifyFailure(repo2);
    expect(rows.code).toBe(6);
    expect(rows.firstBad).toMatchObject({ seq: 2, reason: 'broken-link' });
  });

  it('a row appended outside modelctl (head no longer matches)', async () => {
    const repo = await repoWithHistory();
    const { chainHash } = await import('../../src/core/events.js');
    tamper(repo, (db) => {
      const last = db.prepare('SELECT * FROM events ORDER BY seq DESC LIMIT 1').get() as Record<string, string>;
      const payload = last.payload.replace(last.id, 'e'.repeat(64));
      db.prepare('INSERT INTO events (id, at, actor, action, model, version_id, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)').run(
        'e'.repeat(64),
        last.at,
        last.actor,
        last.action,
        last.model,
        last.version_id,
        payload,
        last.hash,
        chainHash(last.hash, payload),
      );
    });
    expect(verifyFailure(repo).code).toBe(6);
  });
});
