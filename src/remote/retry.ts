/**
 * Bounded retries for the few transient failures the AWS SDK's own retry strategy does not
 * cover: S3 `409 ConditionalRequestConflict` (two conditional writes racing on one key) and
 * file-system hiccups on shared folders (EBUSY, EAGAIN, lock contention).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Total attempts including the first (default 5). */
  attempts?: number;
  /** Upper bound of the first delay in ms (default 50). */
  baseDelayMs?: number;
  /** Cap of any single delay in ms (default 2000). */
  maxDelayMs?: number;
  /** Decides whether an error is worth another attempt (default: never). */
  retryable: (err: unknown) => boolean;
}

/**
 * "Full jitter" delay for a 0-based attempt: uniform in [0, min(cap, base·2^attempt)], so
 * racing clients spread out instead of colliding again in lock-step.
 */
export function backoffDelay(attempt: number, baseDelayMs = 50, maxDelayMs = 2000): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.random() * ceiling;
}

/** Runs `fn` until it succeeds, a non-retryable error is thrown, or the attempts run out (the last error is rethrown). */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= attempts || !opts.retryable(err)) throw err;
      await sleep(backoffDelay(attempt, opts.baseDelayMs, opts.maxDelayMs));
    }
  }
}
