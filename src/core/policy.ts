import { UsageError } from '../errors.js';
import { printable } from './names.js';
import { closest } from './refs.js';

/** Comparison operators a metric threshold may use, longest first (so `>=` wins over `>`). */
export const COMPARATORS = ['>=', '<=', '==', '>', '<'] as const;
export type Comparator = (typeof COMPARATORS)[number];

/** A parsed metric threshold such as `>= 0.92`. */
export interface Threshold {
  op: Comparator;
  value: number;
  /** The threshold as written in the settings, for messages. */
  text: string;
}

/**
 * The rules a stage policy can hold (`policies.<stage>` in modelctl.json). Structural, so
 * core stays independent of the settings loader; the config schema's StagePolicy fits it.
 */
export interface StagePolicyRules {
  /** true: must have held the stage before this one in the list; a string: must have held that stage. */
  from?: string | boolean;
  /** Metric name → threshold (`">= 0.92"`). */
  metrics?: Record<string, string>;
  /** The version must have been committed from a clean git tree. */
  clean_git?: boolean;
  /** The promotion must give `--reason`. */
  require_reason?: boolean;
  /** trust.keys names that must each have made a valid signature of the version. */
  require_signatures?: string[];
}

/** What the policy is checked against: facts about the version and the request. */
export interface PolicyFacts {
  /** The stage being moved. */
  stage: string;
  /** The configured stages, in order. */
  stages: readonly string[];
  archived: boolean;
  /** The version's metrics (values as recorded; only finite numbers can meet a threshold). */
  metrics: Readonly<Record<string, unknown>>;
  /** Stages this version has held at any time (present in the stage history). */
  heldStages: readonly string[];
  /** versions.git_dirty: null when the version has no code lineage. */
  gitDirty: boolean | null;
  reason: string | null;
  /** trust.keys names with a valid signature of the version (needed only when the policy requires signatures). */
  signedBy?: readonly string[];
}

export type PolicyRuleName = 'archived' | 'from' | 'metric' | 'clean_git' | 'require_reason' | 'signature';

/** One rule a promotion did not meet (the `unmet` entries of a verdict). */
export interface UnmetRule {
  rule: PolicyRuleName;
  /** What failed, for people: "accuracy is 0.9, needs >= 0.92". */
  message: string;
  /** The metric name for `metric` rules, the required stage for `from`, the key name for `signature`. */
  key?: string;
  expected?: string;
  actual?: string | number | boolean | null;
}

/** The outcome of checking a promotion against its stage's policy. */
export interface PolicyVerdict {
  allowed: boolean;
  /** Every unmet rule, in a stable order: archived, from, metrics (by name), clean_git, require_reason, signatures (by key name). */
  unmet: UnmetRule[];
  /** Every rule that was checked (`metric:accuracy`, `from:staging`, …), met or not. */
  checked: string[];
}

/**
 * Parses a metric threshold (`">= 0.92"`, `"<0.1"`, `"== 3"`); throws UsageError (exit 2)
 * naming the metric when the text is not an operator followed by a finite number.
 */
export function parseThreshold(text: string, metric = 'metric'): Threshold {
  const t = text.trim();
  const op = COMPARATORS.find((c) => t.startsWith(c));
  const rest = op ? t.slice(op.length).trim() : '';
  const value = Number(rest);
  if (!op || rest === '' || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(rest) || !Number.isFinite(value)) {
    throw new UsageError('INVALID_POLICY', `invalid threshold '${printable(text)}' for metric '${printable(metric)}'`, {
      hint: 'write an operator (>, >=, <, <=, ==) and a number, e.g. "accuracy": ">= 0.92"',
    });
  }
  return { op, value, text: `${op} ${rest}` };
}

/** True when `actual` satisfies the threshold. */
export function meetsThreshold(actual: number, t: Threshold): boolean {
  switch (t.op) {
    case '>':
      return actual > t.value;
    case '>=':
      return actual >= t.value;
    case '<':
      return actual < t.value;
    case '<=':
      return actual <= t.value;
    case '==':
      return actual === t.value;
  }
}

/**
 * The stage a `from` rule requires, or null when the policy has none. Throws UsageError
 * (exit 2) for a rule that can never be met as configured: `from: true` on the first
 * stage, or a named stage that is not in the stage list. A misconfigured gate fails
 * loudly instead of silently letting everything through.
 */
export function requiredFromStage(policy: StagePolicyRules | undefined, stage: string, stages: readonly string[]): string | null {
  const from = policy?.from;
  if (from === undefined || from === false) return null;
  if (from === true) {
    const i = stages.indexOf(stage);
    if (i <= 0) {
      throw new UsageError('INVALID_POLICY', `policies.${stage}.from is true but no stage comes before '${stage}'`, {
        hint: `name the stage to require (e.g. "from": "staging") or remove the rule; stages are: ${stages.join(', ')}`,
      });
    }
    return stages[i - 1];
  }
  if (!stages.includes(from)) {
    throw new UsageError('INVALID_POLICY', `policies.${stage}.from names '${printable(from)}', which is not a configured stage`, {
      hint: `stages are: ${stages.join(', ')}`,
    });
  }
  return from;
}

/**
 * Throws UsageError (exit 2) when `policies` holds a key that names no configured stage:
 * a policy written for `prod` when the stage is `production` would otherwise gate nothing,
 * and every promotion to `production` would pass in silence.
 */
export function assertPoliciesNameStages(policies: Readonly<Record<string, unknown>>, stages: readonly string[]): void {
  const stray = Object.keys(policies).filter((k) => !stages.includes(k));
  if (stray.length === 0) return;
  const first = stray[0];
  const near = closest(first, stages, 1);
  throw new UsageError('INVALID_POLICY', `policies.${printable(first)} names no configured stage${near.length ? ` — did you mean '${near[0]}'?` : ''} (stages: ${stages.join(', ')})`, {
    hint: 'rename the policy in modelctl.json to the stage it gates, or add the stage to "stages"',
    data: { policies: stray, stages: [...stages] },
  });
}

/**
 * Checks a promotion against a stage policy and returns EVERY unmet rule (never stops at
 * the first), so a denied user fixes everything in one round. An archived version is
 * always denied, whatever the policy. Pure: the caller gathers the facts.
 */
export function evaluatePolicy(policy: StagePolicyRules | undefined, facts: PolicyFacts): PolicyVerdict {
  const unmet: UnmetRule[] = [];
  const checked: string[] = ['archived'];
  if (facts.archived) {
    unmet.push({ rule: 'archived', message: 'the version is archived (unarchive it first)', actual: true, expected: 'not archived' });
  }

  const fromStage = requiredFromStage(policy, facts.stage, facts.stages);
  if (fromStage !== null) {
    checked.push(`from:${fromStage}`);
    if (!facts.heldStages.includes(fromStage)) {
      unmet.push({ rule: 'from', key: fromStage, message: `the version never held '${fromStage}'`, expected: fromStage, actual: null });
    }
  }

  for (const name of Object.keys(policy?.metrics ?? {}).sort()) {
    const threshold = parseThreshold((policy?.metrics ?? {})[name], name);
    checked.push(`metric:${name}`);
    const actual = Object.hasOwn(facts.metrics, name) ? facts.metrics[name] : undefined;
    if (actual === undefined) {
      unmet.push({ rule: 'metric', key: name, message: `metric '${name}' is missing, needs ${threshold.text}`, expected: threshold.text, actual: null });
    } else if (typeof actual !== 'number' || !Number.isFinite(actual)) {
      unmet.push({
        rule: 'metric',
        key: name,
        message: `metric '${name}' is not a number (${JSON.stringify(actual)}), needs ${threshold.text}`,
        expected: threshold.text,
        actual: typeof actual === 'string' || typeof actual === 'boolean' || actual === null ? actual : JSON.stringify(actual),
      });
    } else if (!meetsThreshold(actual, threshold)) {
      unmet.push({ rule: 'metric', key: name, message: `metric '${name}' is ${actual}, needs ${threshold.text}`, expected: threshold.text, actual });
    }
  }

  if (policy?.clean_git) {
    checked.push('clean_git');
    if (facts.gitDirty === null) {
      unmet.push({ rule: 'clean_git', message: 'the version has no code lineage (committed outside git, or before the first git commit)', expected: 'clean', actual: null });
    } else if (facts.gitDirty) {
      unmet.push({ rule: 'clean_git', message: 'the version was committed from a git tree with uncommitted changes', expected: 'clean', actual: 'dirty' });
    }
  }

  if (policy?.require_reason) {
    checked.push('require_reason');
    if (!facts.reason || facts.reason.trim() === '') {
      unmet.push({ rule: 'require_reason', message: 'a reason is required (pass --reason "…")', expected: 'a reason', actual: null });
    }
  }

  for (const name of [...new Set(policy?.require_signatures ?? [])].sort()) {
    checked.push(`signature:${name}`);
    if (!(facts.signedBy ?? []).includes(name)) {
      unmet.push({ rule: 'signature', key: name, message: `no valid signature by trusted key '${name}' (sign it with \`modelctl sign <ref> --key <private.pem>\`)`, expected: name, actual: null });
    }
  }

  return { allowed: unmet.length === 0, unmet, checked };
}
