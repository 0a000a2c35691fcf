import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { archive } from '../../src/api/archive.js';
import { apiEnv, promoteIn } from '../helpers/setup-api.js';
import { runCli, writeFile } from '../helpers/temp-repo.js';
import { commitVersion, lifecycleRepo, stageHolder, writeSettings } from './lifecycle-helpers.js';

const rules = (r: { error(): unknown }) => ((r.error() as { data: { unmet: { rule: string; key?: string }[] } }).data.unmet).map((u) => `${u.rule}${u.key ? `:${u.key}` : ''}`);

describe('promote: stages', () => {
  it('moves an exclusive pointer per model and records each move', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const v2 = await commitVersion(repo);
    const other = await commitVersion(repo, 'team/other');
    const a = runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.json()).toMatchObject({ action: 'promote', model: 'fraud', stage: 'staging', changed: true, allowed: true, unmet: [], previous: null, version: { id: v1.id, stages: ['staging'] } });
    expect(a.json().event).toMatchObject({ action: 'promote', from: null, to: v1.id, data: { stage: 'staging', number: 1, fromNumber: null } });
    const b = runCli(repo, ['promote', 'fraud@v2', '--to', 'staging', '--json']);
    expect(b.json()).toMatchObject({ changed: true, previous: { id: v1.id, stages: [] }, version: { id: v2.id } });
    expect(b.json().event).toMatchObject({ from: v1.id, to: v2.id, data: { fromNumber: 1, number: 2 } });
    expect(runCli(repo, ['promote', 'team/other', '--to', 'staging']).code).toBe(0);
    expect(await stageHolder(repo, 'fraud', 'staging')).toBe(v2.id);
    expect(await stageHolder(repo, 'team/other', 'staging')).toBe(other.id);
    // The stage is a reference.
    expect(runCli(repo, ['diff', 'fraud@staging', 'fraud@v2', '--json']).json().identical).toBe(true);
  });

  it('promoting the current holder is a no-op without an event', async () => {
    const repo = lifecycleRepo();
    await commitVersion(repo);
    await promoteIn(repo, 'fraud@v1', 'staging'); // arranged through the Node API (setup-api.ts)
    const r = runCli(repo, ['promote', 'fraud@staging', '--to', 'staging', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ changed: false, event: null });
    expect((runCli(repo, ['history', 'fraud', '--stage', 'staging', '--json']).json() as unknown[]).length).toBe(1);
  });

  it('an unknown stage exits 2 and lists the configured stages', async () => {
    const repo = lifecycleRepo({ stages: ['dev', 'staging', 'production'] });
    await commitVersion(repo);
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'prod', '--json']);
    expect(r.code).toBe(2);
    const err = r.error() as unknown as { code: string; data: { stages: string[] } };
    expect(err.code).toBe('UNKNOWN_STAGE');
    expect(err.data.stages).toEqual(['dev', 'staging', 'production']);
    // …and names the stage a typo meant, as model names do.
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'stagign', '--json']).error().message).toContain("did you mean 'staging'");
    expect(runCli(repo, ['promote', 'fraud@v1', '--json']).code).toBe(2);
    expect(runCli(repo, ['promote', 'fraud@v7', '--to', 'staging', '--json']).code).toBe(3);
  });

  it('an archived version cannot be promoted (exit 5) but still resolves; unarchive restores it', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const a = runCli(repo, ['archive', 'fraud@v1', '--reason', 'leaky features', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.json()).toMatchObject({ action: 'archive', changed: true, version: { archived: true } });
    expect(a.json().event).toMatchObject({ action: 'archive', version: v1.id, reason: 'leaky features' });
    expect(runCli(repo, ['archive', 'fraud@v1', '--json']).json()).toMatchObject({ changed: false, event: null });
    const p = runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--json']);
    expect(p.code).toBe(5);
    expect(p.error().code).toBe('VERSION_ARCHIVED');
    expect(rules(p)).toEqual(['archived']);
    expect(runCli(repo, ['diff', 'fraud@v1', 'fraud@latest', '--json']).code).toBe(0);
    expect(runCli(repo, ['unarchive', 'fraud@v1', '--json']).json()).toMatchObject({ action: 'unarchive', changed: true, version: { archived: false } });
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'staging']).code).toBe(0);
  });

  it('archiving a stage holder keeps the stage and warns', async () => {
    const repo = lifecycleRepo();
    await commitVersion(repo);
    await promoteIn(repo, 'fraud@v1', 'staging'); // arranged through the Node API (setup-api.ts)
    const r = runCli(repo, ['archive', 'fraud@staging', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().version.stages).toEqual(['staging']);
    expect(r.stderr).toContain('warning');
  });
});

describe('promote: the policy matrix', () => {
  it('from: true — denied until the version held the previous stage', async () => {
    const repo = lifecycleRepo({ policies: { production: { from: true } } });
    await commitVersion(repo);
    const denied = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--json']);
    expect(denied.code).toBe(5);
    expect(denied.error().code).toBe('POLICY_DENIED');
    expect(rules(denied)).toEqual(['from:staging']);
    await promoteIn(repo, 'fraud@v1', 'staging'); // arranged through the Node API (setup-api.ts)
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--json']).code).toBe(0);
  });

  it('from: true counts a stage held in the past, not only now', async () => {
    const repo = lifecycleRepo({ policies: { production: { from: true } } });
    await commitVersion(repo);
    await commitVersion(repo);
    // Arranged through the Node API (setup-api.ts).
    await promoteIn(repo, 'fraud@v1', 'staging');
    await promoteIn(repo, 'fraud@v2', 'staging');
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'production']).code).toBe(0);
  });

  it('from: "<stage>" names the stage to have held', async () => {
    const repo = lifecycleRepo({ stages: ['dev', 'staging', 'production'], policies: { production: { from: 'dev' } } });
    await commitVersion(repo);
    await promoteIn(repo, 'fraud@v1', 'staging'); // arranged through the Node API (setup-api.ts)
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--json']);
    expect(r.code).toBe(5);
    expect(rules(r)).toEqual(['from:dev']);
    await promoteIn(repo, 'fraud@v1', 'dev');
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'production']).code).toBe(0);
  });

  it('metric thresholds with every operator', async () => {
    const repo = lifecycleRepo({
      policies: { production: { metrics: { accuracy: '>= 0.92', auc: '> 0.9', loss: '< 0.3', latency_ms: '<= 50', classes: '== 2' } } },
    });
    await commitVersion(repo, 'fraud', { metrics: { accuracy: 0.92, auc: 0.95, loss: 0.2, latency_ms: 50, classes: 2 } });
    await commitVersion(repo, 'fraud', { metrics: { accuracy: 0.919, auc: 0.9, loss: 0.3, latency_ms: 51, classes: 3 } });
    const ok = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().checked).toEqual(['archived', 'metric:accuracy', 'metric:auc', 'metric:classes', 'metric:latency_ms', 'metric:loss']);
    const bad = runCli(repo, ['promote', 'fraud@v2', '--to', 'production', '--json']);
    expect(bad.code).toBe(5);
    expect(rules(bad)).toEqual(['metric:accuracy', 'metric:auc', 'metric:classes', 'metric:latency_ms', 'metric:loss']);
    const unmet = (bad.error() as unknown as { data: { unmet: { key: string; actual: unknown; expected: string }[] } }).data.unmet;
    expect(unmet.find((u) => u.key === 'accuracy')).toMatchObject({ actual: 0.919, expected: '>= 0.92' });
  });

  it('a missing or non-numeric metric fails its threshold', async () => {
    const repo = lifecycleRepo({ policies: { staging: { metrics: { accuracy: '>= 0.5', f1: '>= 0.5' } } } });
    await commitVersion(repo, 'fraud', { metrics: { accuracy: 'high' } });
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--json']);
    expect(r.code).toBe(5);
    expect(rules(r)).toEqual(['metric:accuracy', 'metric:f1']);
  });

  it('require_reason: --reason is needed and recorded', async () => {
    const repo = lifecycleRepo({ policies: { staging: { require_reason: true } } });
    await commitVersion(repo);
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--json']);
    expect(r.code).toBe(5);
    expect(rules(r)).toEqual(['require_reason']);
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--reason', '  ', '--json']).code).toBe(5);
    const ok = runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--reason', 'shadow traffic looked good', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json().event.reason).toBe('shadow traffic looked good');
  });

  it('clean_git: a clean git tree passes; dirty or no git lineage fails', async () => {
    const repo = lifecycleRepo({ policies: { production: { clean_git: true } } });
    const noGit = await commitVersion(repo);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
    // Model artifacts and the store stay out of git, as in a real training repository.
    writeFile(repo, '.gitignore', '.modelctl/\nmodels/\n');
    git('init', '-q');
    git('config', 'user.email', 'ml@example.com');
    git('config', 'user.name', 'ML');
    writeFile(repo, 'train.py', 'print(1)\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'train');
    const clean = await commitVersion(repo);
    writeFile(repo, 'train.py', 'print(2)\n');
    const dirty = await commitVersion(repo);
    for (const [v, expected] of [
      [noGit, 5],
      [dirty, 5],
      [clean, 0],
    ] as const) {
      const r = runCli(repo, ['promote', v.ref, '--to', 'production', '--json']);
      expect(r.code, `${v.ref}: ${r.stderr}`).toBe(expected);
      if (expected === 5) expect(rules(r)).toEqual(['clean_git']);
    }
    // The committing user is the git user.email.
    const events = runCli(repo, ['history', 'fraud', '--stage', 'production', '--json']).json() as { actor: string }[];
    expect(events[0].actor).toBe('ml@example.com');
  });

  it('several failing rules are all listed together (message and data.unmet)', async () => {
    const repo = lifecycleRepo({
      policies: { production: { from: true, metrics: { accuracy: '>= 0.92' }, clean_git: true, require_reason: true } },
    });
    await commitVersion(repo, 'fraud', { metrics: { accuracy: 0.5 } });
    // Arranged through the Node API (src/index.ts), as `modelctl archive fraud@v1`.
    await archive({ cwd: repo, env: apiEnv(), ref: 'fraud@v1', argv: ['archive', 'fraud@v1'] });
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--json']);
    expect(r.code).toBe(5);
    expect(rules(r)).toEqual(['archived', 'from:staging', 'metric:accuracy', 'clean_git', 'require_reason']);
    const human = runCli(repo, ['promote', 'fraud@v1', '--to', 'production']);
    expect(human.code).toBe(5);
    for (const rule of ['archived', 'from', 'metric', 'clean_git', 'require_reason']) expect(human.stderr).toContain(rule);
  });

  it('policies of other stages do not apply; a misconfigured policy exits 2', async () => {
    const repo = lifecycleRepo({ policies: { production: { require_reason: true } } });
    await commitVersion(repo);
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'staging']).code).toBe(0);
    writeSettings(repo, { policies: { staging: { from: true } } });
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--json']).code).toBe(2);
    writeSettings(repo, { policies: { production: { from: 'qa' } } });
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--json']).code).toBe(2);
  });
});

describe('promote --dry-run', () => {
  it('allowed: exit 0, reports the verdict, moves nothing, records nothing', async () => {
    const repo = lifecycleRepo({ policies: { staging: { metrics: { accuracy: '>= 0.9' } } } });
    await commitVersion(repo, 'fraud', { metrics: { accuracy: 0.95 } });
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ dryRun: true, allowed: true, unmet: [], changed: false, event: null, checked: ['archived', 'metric:accuracy'] });
    expect(await stageHolder(repo, 'fraud', 'staging')).toBeNull();
  });

  it('denied: exit 5, the verdict on stdout with every unmet rule, nothing moved', async () => {
    const repo = lifecycleRepo({ policies: { production: { from: true, require_reason: true } } });
    await commitVersion(repo);
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--dry-run', '--json']);
    expect(r.code).toBe(5);
    expect(r.json()).toMatchObject({ dryRun: true, allowed: false, changed: false });
    expect(r.json().unmet.map((u: { rule: string }) => u.rule)).toEqual(['from', 'require_reason']);
    expect(rules(r)).toEqual(['from:staging', 'require_reason']);
    expect(await stageHolder(repo, 'fraud', 'production')).toBeNull();
  });
});

describe('commit --stage', () => {
  it('commits then promotes; the result carries the promotion', async () => {
    const repo = lifecycleRepo();
    writeFile(repo, 'model/w.bin', 'weights');
    const r = runCli(repo, ['commit', 'fraud', 'model', '-m', 'first', '--stage', 'staging', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.created).toBe(true);
    expect(out.promotion).toMatchObject({ action: 'promote', stage: 'staging', changed: true, version: { id: out.version.id } });
    expect(await stageHolder(repo, 'fraud', 'staging')).toBe(out.version.id);
    const plain = runCli(repo, ['commit', 'fraud', 'model', '--json']);
    expect(plain.json().promotion).toBeNull();
  });

  it('an unknown stage exits 2 before anything is committed', async () => {
    const repo = lifecycleRepo();
    writeFile(repo, 'model/w.bin', 'weights');
    expect(runCli(repo, ['commit', 'fraud', 'model', '--stage', 'prod', '--json']).code).toBe(2);
    expect(runCli(repo, ['history', '--json']).json()).toEqual([]);
  });

  it('a denied promotion keeps the commit and exits 5; -m is the reason', async () => {
    const repo = lifecycleRepo({ policies: { staging: { metrics: { accuracy: '>= 0.9' }, require_reason: true } } });
    writeFile(repo, 'model/w.bin', 'weights');
    const r = runCli(repo, ['commit', 'fraud', 'model', '-m', 'try', '--metric', 'accuracy=0.5', '--stage', 'staging', '--json']);
    expect(r.code).toBe(5);
    expect(r.json()).toMatchObject({ created: true, promotion: null });
    expect(rules(r)).toEqual(['metric:accuracy']);
    const events = runCli(repo, ['history', '--json']).json() as { action: string }[];
    expect(events.map((e) => e.action)).toEqual(['commit']);
  });
});
