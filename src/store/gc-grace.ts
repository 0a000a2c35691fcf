import { UsageError } from '../errors.js';

/**
 * Objects written (or reused by a commit) within this window are never collected: a
 * concurrent commit may have stored them and not yet recorded its version.
 */
export const DEFAULT_GC_GRACE_SECONDS = 15 * 60;

/** The grace period in seconds (MODELCTL_GC_GRACE_SECONDS, else 15 minutes). */
export function gcGraceSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env.MODELCTL_GC_GRACE_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_GC_GRACE_SECONDS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new UsageError('INVALID_ENV', `MODELCTL_GC_GRACE_SECONDS must be a number of seconds ≥ 0, not '${raw}'`);
  return n;
}

/** "15 minutes", "90 seconds", "2 hours": the grace period as people read it. */
export function describeGrace(seconds: number): string {
  const unit = (n: number, u: string) => `${n} ${u}${n === 1 ? '' : 's'}`;
  if (seconds % 3600 === 0 && seconds > 0) return unit(seconds / 3600, 'hour');
  if (seconds % 60 === 0 && seconds > 0) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}
