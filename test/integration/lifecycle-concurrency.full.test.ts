import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/temp-repo.js';
import { auditEvents, commitVersion, installHook, lifecycleRepo, runCliAsync } from './lifecycle-helpers.js';

describe('concurrent stage moves on one repository', () => {
  it('serialize: every promotion lands, each records the holder it replaced, the chain verifies', async () => {
    const repo = lifecycleRepo();
    const versions = [];
    for (let i = 0; i < 4; i++) versions.push(await commitVersion(repo));
    const other = await commitVersion(repo, 'other');
    // The hook widens the window between reading the holder and writing the move, so
    // every process reads "nobody holds staging" and must still record the true `from`.
    installHook(repo, 'pre-promote', '#!/bin/sh\ncat >/dev/null\nsleep 0.3\n');

    const runs = await Promise.all([
      ...versions.map((v) => runCliAsync(repo, ['promote', v.ref, '--to', 'staging', '--json'], { timeoutMs: 60_000 })),
      runCliAsync(repo, ['tag', versions[0].ref, 'baseline', '--json'], { timeoutMs: 60_000 }),
      runCliAsync(repo, ['promote', other.ref, '--to', 'production', '--json'], { timeoutMs: 60_000 }),
    ]);
    for (const r of runs) {
      expect(r.timedOut).toBe(false);
      expect(r.code, r.stderr).toBe(0);
    }

    const events = await auditEvents(repo);
    const staging = events.filter((e) => e.action === 'promote' && e.model === 'fraud');
    expect(staging).toHaveLength(4);
    expect(new Set(staging.map((e) => e.to))).toEqual(new Set(versions.map((v) => v.id)));
    // Serialized: each move replaced exactly the holder left by the one before it.
    expect(staging[0].from).toBeNull();
    for (let i = 1; i < staging.length; i++) expect(staging[i].from).toBe(staging[i - 1].to);
    expect(events.filter((e) => e.action === 'tag')).toHaveLength(1);
    expect(events.filter((e) => e.model === 'other' && e.action === 'promote')).toHaveLength(1);
    // Each process reported the event it recorded.
    const reported = runs.slice(0, 4).map((r) => JSON.parse(r.stdout).event.id).sort();
    expect(reported).toEqual(staging.map((e) => e.id).sort());

    const db = new Database(join(repo, '.modelctl', 'index.db'), { readonly: true });
    try {
      const history = db.prepare("SELECT version_id AS v, previous_version_id AS p, event_id AS e FROM stage_history WHERE stage = 'staging' ORDER BY seq").all() as { v: string; p: string | null; e: string }[];
      expect(history.map((h) => h.e)).toEqual(staging.map((e) => e.id));
      expect(history.map((h) => h.p)).toEqual(staging.map((e) => e.from));
      const holder = db.prepare("SELECT version_id AS v FROM stages WHERE stage = 'staging'").get() as { v: string };
      expect(holder.v).toBe(staging[3].to);
    } finally {
      db.close();
    }
    const verify = runCli(repo, ['history', '--verify', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('two processes promoting the same version: one moves, the other finds nothing to do', async () => {
    const repo = lifecycleRepo();
    const v = await commitVersion(repo);
    installHook(repo, 'pre-promote', '#!/bin/sh\ncat >/dev/null\nsleep 0.3\n');
    const runs = await Promise.all([0, 1].map(() => runCliAsync(repo, ['promote', v.ref, '--to', 'staging', '--json'], { timeoutMs: 60_000 })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs.map((r) => JSON.parse(r.stdout).changed).sort()).toEqual([false, true]);
    expect((await auditEvents(repo)).filter((e) => e.action === 'promote')).toHaveLength(1);
    expect(runCli(repo, ['history', '--verify']).code).toBe(0);
  });
});
