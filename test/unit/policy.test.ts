import { describe, expect, it } from 'vitest';
import { ExitCode, ModelctlError } from '../../src/errors.js';
import { evaluatePolicy, meetsThreshold, parseThreshold, requiredFromStage, type PolicyFacts } from '../../src/core/policy.js';

const STAGES = ['dev', 'staging', 'production'];

function facts(over: Partial<PolicyFacts> = {}): PolicyFacts {
  return { stage: 'production', stages: STAGES, archived: false, metrics: {}, heldStages: [], gitDirty: false, reason: null, ...over };
}

function usageCode(fn: () => unknown): number | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof ModelctlError ? err.exitCode : -1;
  }
}

describe('parseThreshold', () => {
  it.each([
    ['>= 0.92', '>=', 0.92],
    ['>0.5', '>', 0.5],
    ['  <  10 ', '<', 10],
    ['<= -1.5', '<=', -1.5],
    ['== 3', '==', 3],
    ['>= 1e-3', '>=', 0.001],
    ['> .5', '>', 0.5],
  ])('%s', (text, op, value) => {
    expect(parseThreshold(text)).toMatchObject({ op, value });
  });

  it.each(['0.9', '=> 0.9', '>= ', '>= abc', '>= 1.2.3', '= 1', '>= Infinity', '>= 0x10'])('rejects %j with exit 2', (text) => {
    expect(usageCode(() => parseThreshold(text, 'accuracy'))).toBe(ExitCode.USAGE);
  });

  it('compares with each operator', () => {
    expect(meetsThreshold(0.92, parseThreshold('>= 0.92'))).toBe(true);
    expect(meetsThreshold(0.92, parseThreshold('> 0.92'))).toBe(false);
    expect(meetsThreshold(0.1, parseThreshold('< 0.2'))).toBe(true);
    expect(meetsThreshold(0.2, parseThreshold('< 0.2'))).toBe(false);
    expect(meetsThreshold(0.2, parseThreshold('<= 0.2'))).toBe(true);
    expect(meetsThreshold(3, parseThreshold('== 3'))).toBe(true);
    expect(meetsThreshold(3.0001, parseThreshold('== 3'))).toBe(false);
  });
});

describe('requiredFromStage', () => {
  it('true means the stage before in the list; a string names the stage', () => {
    expect(requiredFromStage({ from: true }, 'production', STAGES)).toBe('staging');
    expect(requiredFromStage({ from: 'dev' }, 'production', STAGES)).toBe('dev');
    expect(requiredFromStage({ from: false }, 'production', STAGES)).toBeNull();
    expect(requiredFromStage({}, 'production', STAGES)).toBeNull();
    expect(requiredFromStage(undefined, 'production', STAGES)).toBeNull();
  });
  it('a rule that can never be met is a configuration error (exit 2)', () => {
    expect(usageCode(() => requiredFromStage({ from: true }, 'dev', STAGES))).toBe(ExitCode.USAGE);
    expect(usageCode(() => requiredFromStage({ from: 'qa' }, 'production', STAGES))).toBe(ExitCode.USAGE);
  });
});

describe('evaluatePolicy: each rule passing and failing', () => {
  it('no policy: allowed', () => {
    expect(evaluatePolicy(undefined, facts())).toEqual({ allowed: true, unmet: [], checked: ['archived'] });
  });

  it('archived is always denied, even without a policy', () => {
    const v = evaluatePolicy(undefined, facts({ archived: true }));
    expect(v.allowed).toBe(false);
    expect(v.unmet.map((u) => u.rule)).toEqual(['archived']);
  });

  it('from: true', () => {
    expect(evaluatePolicy({ from: true }, facts({ heldStages: ['staging'] })).allowed).toBe(true);
    const v = evaluatePolicy({ from: true }, facts({ heldStages: ['dev'] }));
    expect(v.unmet).toEqual([expect.objectContaining({ rule: 'from', key: 'staging' })]);
    expect(v.checked).toContain('from:staging');
  });

  it('from: "<stage>"', () => {
    expect(evaluatePolicy({ from: 'dev' }, facts({ heldStages: ['dev'] })).allowed).toBe(true);
    expect(evaluatePolicy({ from: 'dev' }, facts({ heldStages: ['staging'] })).unmet[0]).toMatchObject({ rule: 'from', key: 'dev' });
  });

  it('metric thresholds: met, unmet, missing, not a number', () => {
    const policy = { metrics: { accuracy: '>= 0.92', latency_ms: '< 50' } };
    expect(evaluatePolicy(policy, facts({ metrics: { accuracy: 0.95, latency_ms: 20 } })).allowed).toBe(true);
    const low = evaluatePolicy(policy, facts({ metrics: { accuracy: 0.9, latency_ms: 20 } }));
    expect(low.unmet).toEqual([expect.objectContaining({ rule: 'metric', key: 'accuracy', actual: 0.9, expected: '>= 0.92' })]);
    const missing = evaluatePolicy(policy, facts({ metrics: { accuracy: 0.95 } }));
    expect(missing.unmet).toEqual([expect.objectContaining({ rule: 'metric', key: 'latency_ms', actual: null })]);
    const text = evaluatePolicy(policy, facts({ metrics: { accuracy: 'high', latency_ms: 20 } }));
    expect(text.unmet).toEqual([expect.objectContaining({ rule: 'metric', key: 'accuracy', actual: 'high' })]);
    expect(low.checked).toEqual(['archived', 'metric:accuracy', 'metric:latency_ms']);
  });

  it('clean_git: clean passes, dirty and absent code lineage fail', () => {
    expect(evaluatePolicy({ clean_git: true }, facts({ gitDirty: false })).allowed).toBe(true);
    expect(evaluatePolicy({ clean_git: true }, facts({ gitDirty: true })).unmet).toEqual([expect.objectContaining({ rule: 'clean_git', actual: 'dirty' })]);
    expect(evaluatePolicy({ clean_git: true }, facts({ gitDirty: null })).unmet).toEqual([expect.objectContaining({ rule: 'clean_git', actual: null })]);
    expect(evaluatePolicy({ clean_git: false }, facts({ gitDirty: true })).allowed).toBe(true);
  });

  it('require_reason: a non-blank reason passes', () => {
    expect(evaluatePolicy({ require_reason: true }, facts({ reason: 'A/B test won' })).allowed).toBe(true);
    expect(evaluatePolicy({ require_reason: true }, facts({ reason: null })).unmet[0].rule).toBe('require_reason');
    expect(evaluatePolicy({ require_reason: true }, facts({ reason: '   ' })).unmet[0].rule).toBe('require_reason');
  });

  it('several failing rules are ALL listed, in a stable order', () => {
    const v = evaluatePolicy(
      { from: true, metrics: { accuracy: '>= 0.92', auc: '> 0.9' }, clean_git: true, require_reason: true },
      facts({ archived: true, metrics: { accuracy: 0.5 }, heldStages: [], gitDirty: true, reason: null }),
    );
    expect(v.allowed).toBe(false);
    expect(v.unmet.map((u) => `${u.rule}${u.key ? `:${u.key}` : ''}`)).toEqual([
      'archived',
      'from:staging',
      'metric:accuracy',
      'metric:auc',
      'clean_git',
      'require_reason',
    ]);
  });

  it('a malformed threshold in the settings is a usage error, not a silent pass', () => {
    expect(usageCode(() => evaluatePolicy({ metrics: { accuracy: 'high' } }, facts()))).toBe(ExitCode.USAGE);
  });
});
