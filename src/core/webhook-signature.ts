import { createHmac } from 'node:crypto';

/**
 * The signature of a webhook body `modelctl watch` sends (docs/design.md §12): the header
 * `X-Modelctl-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the shared secret, over
 * `<timestamp>.<body>`, where the timestamp (Unix seconds) travels in `X-Modelctl-Timestamp`.
 * Binding the time in lets a receiver refuse replays of old deliveries.
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}
