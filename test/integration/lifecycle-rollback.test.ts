import { describe, expect, it } from 'vitest';
import { archive, unarchive } from '../../src/api/archive.js';
import { apiEnv, promoteIn } from '../helpers/setup-api.js';
import { runCli } from '../helpers/temp-repo.js';
import { auditEvents, commitVersion, lifecycleRepo, stageHolder, writeSettings } from './lifecycle-helpers.js';

// The promotions (and archive marks) a rollback starts from are arranged through the Node API
// (setup-api.ts), in this process; every rollback under test runs through the CLI.

describe('rollback', () => {
  it('walks back over a history of several moves, then has nowhere to go (exit 3)', async () => {
    const repo = lifecycleRepo();
    const v = [await commitVersion(repo), await commitVersion(repo), await commitVersion(repo)];
    for (const x of v) await promoteIn(repo, x.ref, 'production');
    expect(await stageHolder(repo, 'fraud', 'production')).toBe(v[2].id);

    const first = runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--reason', 'latency regression', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({ action: 'rollback', stage: 'production', changed: true, previous: { id: v[2].id }, version: { id: v[1].id } });
    expect(first.json().event).toMatchObject({ action: 'rollback', from: v[2].id, to: v[1].id, reason: 'latency regression', data: { stage: 'production', number: 2, fromNumber: 3 } });

    const second = runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json().version.id).toBe(v[0].id);

    const third = runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--json']);
    expect(third.code).toBe(3);
    expect(third.error().code).toBe('NO_PREVIOUS_HOLDER');
    expect(await stageHolder(repo, 'fraud', 'production')).toBe(v[0].id);

    // A new promotion is undone by the next rollback.
    await promoteIn(repo, v[2].ref, 'production');
    expect(runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--json']).json().version.id).toBe(v[0].id);

    const actions = (await auditEvents(repo, 'fraud')).filter((e) => e.data.stage === 'production').map((e) => e.action);
    expect(actions).toEqual(['promote', 'promote', 'promote', 'rollback', 'rollback', 'promote', 'rollback']);
    expect(runCli(repo, ['history', '--verify', '--json']).code).toBe(0);
  });

  it('--to puts the stage on a named version; the next rollback goes below the replaced holder', async () => {
    const repo = lifecycleRepo();
    const v = [await commitVersion(repo), await commitVersion(repo), await commitVersion(repo), await commitVersion(repo)];
    for (const x of v.slice(0, 3)) await promoteIn(repo, x.ref, 'staging');
    const to = runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--to', 'fraud@v1', '--json']);
    expect(to.code, to.stderr).toBe(0);
    expect(to.json()).toMatchObject({ previous: { id: v[2].id }, version: { id: v[0].id } });
    const next = runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.json().version.id).toBe(v[1].id);
    // --to a version that never held the stage is allowed (no policy here); another model's ref is a usage error.
    expect(runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--to', 'fraud@v4', '--json']).json().version.id).toBe(v[3].id);
    expect(runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--to', 'other@v1', '--json']).code).toBe(2);
  });

  it('--dry-run shows the target without moving', async () => {
    const repo = lifecycleRepo();
    const a = await commitVersion(repo);
    const b = await commitVersion(repo);
    await promoteIn(repo, a.ref, 'staging');
    await promoteIn(repo, b.ref, 'staging');
    const r = runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ dryRun: true, changed: false, allowed: true, version: { id: a.id }, previous: { id: b.id } });
    expect(await stageHolder(repo, 'fraud', 'staging')).toBe(b.id);
  });

  it('an empty stage exits 3, an unknown stage 2, an unknown model 3', async () => {
    const repo = lifecycleRepo();
    await commitVersion(repo);
    expect(runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--json']).error().code).toBe('STAGE_EMPTY');
    expect(runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--json']).code).toBe(3);
    expect(runCli(repo, ['rollback', 'fraud', '--stage', 'qa', '--json']).code).toBe(2);
    expect(runCli(repo, ['rollback', 'nope', '--stage', 'staging', '--json']).code).toBe(3);
    expect(runCli(repo, ['rollback', 'fraud', '--json']).code).toBe(2);
  });

  it('policies: a former holder skips the metric/from gates but not require_reason or archived', async () => {
    const repo = lifecycleRepo({ policies: { production: { metrics: { accuracy: '>= 0.9' } } } });
    const a = await commitVersion(repo, 'fraud', { metrics: { accuracy: 0.91 } });
    await commitVersion(repo, 'fraud', { metrics: { accuracy: 0.95 } });
    await promoteIn(repo, 'fraud@v1', 'production');
    await promoteIn(repo, 'fraud@v2', 'production');
    // The gate was tightened after v1 went out: a rollback to v1 is still possible...
    writeSettings(repo, { policies: { production: { metrics: { accuracy: '>= 0.93' }, require_reason: true } } });
    const noReason = runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--json']);
    expect(noReason.code).toBe(5);
    expect((noReason.error() as unknown as { data: { unmet: { rule: string }[] } }).data.unmet.map((u) => u.rule)).toEqual(['require_reason']);
    // ...but not to an archived version.
    await archive({ cwd: repo, env: apiEnv(), ref: 'fraud@v1', argv: ['archive', 'fraud@v1'] });
    const archived = runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--reason', 'incident 42', '--json']);
    expect(archived.code).toBe(5);
    await unarchive({ cwd: repo, env: apiEnv(), ref: 'fraud@v1', argv: ['unarchive', 'fraud@v1'] });
    const ok = runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--reason', 'incident 42', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().version.id).toBe(a.id);
    // A --to version that never held production meets the full policy.
    await commitVersion(repo, 'fraud', { metrics: { accuracy: 0.5 } });
    const full = runCli(repo, ['rollback', 'fraud', '--stage', 'production', '--to', 'fraud@v3', '--reason', 'x', '--json']);
    expect(full.code).toBe(5);
    expect((full.error() as unknown as { data: { unmet: { rule: string }[] } }).data.unmet.map((u) => u.rule)).toEqual(['metric']);
  });
});
