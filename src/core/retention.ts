import { UsageError } from '../errors.js';
import { parseDuration } from './time-filter.js';

/**
 * Retention decisions for remote gc (docs/design.md §16): which versions of a model a
 * policy lets go, and why every other one is kept. Pure: the caller reads the remote.
 */

/** `models.<name>.retention` in modelctl.json, as written there. */
export interface RetentionSettings {
  /** Keep the newest N versions (by number). */
  keep_last?: number;
  /** Keep versions created within this age ("30d", "12h", "2w"). */
  keep_newer_than?: string;
  /** Stages whose former holders are kept too (default ["production"]; [] turns it off). */
  keep_ever_held?: string[];
}

/** A parsed retention policy. */
export interface RetentionPolicy {
  keepLast: number | null;
  keepNewerThanMs: number | null;
  keepEverHeld: string[];
}

/** Reads a model's retention settings; UsageError (2) for a policy that says nothing (it would keep nothing safe). */
export function parseRetention(model: string, s: RetentionSettings, stages: readonly string[]): RetentionPolicy {
  const keepLast = s.keep_last ?? null;
  if (keepLast !== null && (!Number.isInteger(keepLast) || keepLast < 0)) {
    throw new UsageError('INVALID_RETENTION', `models.${model}.retention.keep_last must be a whole number ≥ 0`);
  }
  const keepNewerThanMs = s.keep_newer_than === undefined ? null : parseDuration(s.keep_newer_than, `models.${model}.retention.keep_newer_than`, 0);
  if (keepLast === null && keepNewerThanMs === null) {
    throw new UsageError('INVALID_RETENTION', `models.${model}.retention names neither keep_last nor keep_newer_than`, {
      hint: `add "keep_last": 10 or "keep_newer_than": "30d" to models.${model}.retention in modelctl.json`,
    });
  }
  // A stage name typed wrong would drop the protection of every version that held the real one.
  const stray = (s.keep_ever_held ?? []).find((stage) => !stages.includes(stage));
  if (stray !== undefined) {
    throw new UsageError('INVALID_RETENTION', `models.${model}.retention.keep_ever_held names '${stray}', which is not a configured stage (stages: ${stages.join(', ')})`, {
      hint: `name configured stages only in models.${model}.retention.keep_ever_held`,
    });
  }
  return { keepLast, keepNewerThanMs, keepEverHeld: s.keep_ever_held ?? ['production'] };
}

/** What retention needs to know about one version. */
export interface RetentionCandidate {
  number: number;
  id: string;
  /** The manifest's creation time (ISO-8601). */
  created: string;
  tags: readonly string[];
  /** Stages it holds now. */
  stages: readonly string[];
  /** Stages it held at any time (from stage documents and events). */
  everHeld: readonly string[];
}

/** A retention verdict: kept with its reasons, or let go (reasons empty). */
export interface RetentionVerdict {
  number: number;
  id: string;
  keep: boolean;
  /** Why it is kept: `stage:<s>`, `tag:<t>`, `ever-held:<s>`, `keep_last`, `keep_newer_than`, `no-policy`. */
  reasons: string[];
}

/**
 * Decides, for every version of one model, whether it is kept. With no policy everything
 * is kept. A version holding a stage or a tag is always kept, as is one that ever held a
 * stage of `keepEverHeld`; otherwise it is kept while it is among the newest `keepLast` or
 * younger than `keepNewerThanMs` at `now`, and let go when the policy keeps it for neither.
 */
export function decideRetention(versions: readonly RetentionCandidate[], policy: RetentionPolicy | null, now: Date): RetentionVerdict[] {
  const byNewest = [...versions].sort((a, b) => b.number - a.number);
  return byNewest.map((v, rank) => {
    const reasons: string[] = [];
    if (policy === null) reasons.push('no-policy');
    for (const s of v.stages) reasons.push(`stage:${s}`);
    for (const t of v.tags) reasons.push(`tag:${t}`);
    if (policy) {
      for (const s of v.everHeld) if (policy.keepEverHeld.includes(s) && !v.stages.includes(s)) reasons.push(`ever-held:${s}`);
      if (policy.keepLast !== null && rank < policy.keepLast) reasons.push('keep_last');
      const created = Date.parse(v.created);
      if (policy.keepNewerThanMs !== null && (!Number.isFinite(created) || now.getTime() - created < policy.keepNewerThanMs)) reasons.push('keep_newer_than');
    }
    return { number: v.number, id: v.id, keep: reasons.length > 0, reasons };
  });
}

/** "kept: holds production, tag 1.4.0" — a verdict's reasons as people read them. */
export function describeReasons(reasons: readonly string[], policy: RetentionPolicy | null): string {
  return reasons
    .map((r) => {
      if (r === 'no-policy') return 'the model has no retention policy';
      if (r === 'keep_last') return `among the newest ${policy?.keepLast ?? '?'}`;
      if (r === 'keep_newer_than') return 'younger than keep_newer_than';
      const [kind, name] = [r.slice(0, r.indexOf(':')), r.slice(r.indexOf(':') + 1)];
      if (kind === 'stage') return `holds ${name}`;
      if (kind === 'tag') return `tagged ${name}`;
      if (kind === 'ever-held') return `held ${name} before`;
      return r;
    })
    .join(', ');
}
