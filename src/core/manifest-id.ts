import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { createHash } from 'node:crypto';

/**
 * Manifests up to this size are hashed in JavaScript: loading node:crypto costs ~6 ms, more
 * than `show` spends on everything else beyond start-up (README, Performance), and a
 * manifest is a few KB; a 10,000-file manifest (megabytes) is hashed natively.
 */
const JS_HASH_MAX_BYTES = 256 * 1024;

/** The id of a manifest: the sha256 (hex) of its stored bytes. */
export function manifestId(bytes: Uint8Array): string {
  if (bytes.length <= JS_HASH_MAX_BYTES) return bytesToHex(sha256(bytes));
  return createHash('sha256').update(bytes).digest('hex');
}
