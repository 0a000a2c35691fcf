import { webhookSignature } from '../core/webhook-signature.js';
import { redactUrl } from '../core/redact.js';

/** Where and how watch's webhooks go. */
export interface WebhookTarget {
  url: string;
  /** The HMAC key shared with the receiver. */
  secret: string;
}

const ATTEMPTS = 3;
const TIMEOUT_MS = 10_000;

/**
 * POSTs `payload` as JSON to the webhook, signed (core/webhook-signature.ts): tries three
 * times with growing pauses on network errors and 5xx/429 answers, 10 s each. Returns null on
 * success, else why it gave up (it never throws: a webhook must not stop a deployer).
 */
export async function sendWebhook(target: WebhookTarget, payload: Record<string, unknown>): Promise<string | null> {
  const body = JSON.stringify(payload);
  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'modelctl-watch',
          'X-Modelctl-Event': String(payload.event ?? ''),
          'X-Modelctl-Timestamp': String(timestamp),
          'X-Modelctl-Signature': webhookSignature(target.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return null;
      last = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) break; // the receiver refused it: retrying will not help
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
  return `webhook ${redactUrl(target.url)} failed: ${last}`;
}
