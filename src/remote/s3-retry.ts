/**
 * The S3 client's retry strategy: every request gets its own bounded attempts, with
 * full-jitter exponential backoff (longer for throttling, and never shorter than a
 * server's Retry-After within reason).
 *
 * Why not the SDK's "standard" strategy: it also keeps one retry quota per client (500
 * tokens, 14 per retried timeout or reset, refunded only partly on success), a circuit
 * breaker meant for fleets of clients. One modelctl push of a large model is thousands of
 * requests from one client; on a lossy link the quota ran dry part-way and the next
 * transient reset failed the whole command at its first attempt, although each request
 * would have succeeded on a retry (found by the network-fault suite at a 30% fault rate).
 * Retry storms stay bounded without it: requests in flight are capped by --jobs, and each
 * request by its attempts.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

type RetryStrategyV2 = Extract<NonNullable<S3ClientConfig['retryStrategy']>, { acquireInitialRetryToken: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

const TRANSIENT_BASE_MS = 100;
const THROTTLING_BASE_MS = 500;
const MAX_DELAY_MS = 20_000;

function token(count: number, delayMs: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delayMs };
}

/** A retry strategy with per-request attempts and no shared quota (see the file comment). */
export function perRequestRetryStrategy(maxAttempts: number): RetryStrategyV2 {
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo) => {
      const retries = previous.getRetryCount();
      const retryable = info.errorType === 'TRANSIENT' || info.errorType === 'THROTTLING';
      // The middleware then rethrows the request's own error, with the attempts made.
      if (!retryable || retries + 1 >= maxAttempts) throw new Error('no retry: attempts exhausted or error not retryable');
      const base = info.errorType === 'THROTTLING' ? THROTTLING_BASE_MS : TRANSIENT_BASE_MS;
      let delay = Math.floor(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** retries));
      if (info.retryAfterHint instanceof Date) {
        delay = Math.max(delay, Math.min(info.retryAfterHint.getTime() - Date.now(), delay + 5_000));
      }
      return token(retries + 1, delay);
    },
    recordSuccess: () => undefined,
  };
}
