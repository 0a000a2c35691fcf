import { envelopeSignedBy, type DsseEnvelope } from './dsse.js';
import type { VerifyingKey } from './keys.js';

/**
 * The trusted keys of a repository (`trust.keys` in modelctl.json, docs/design.md §11),
 * and which of them signed something. Pure: the keys come in loaded.
 */

/** A public key the repository trusts, under its name in `trust.keys`. */
export interface TrustedKey extends VerifyingKey {
  name: string;
}

/** The trusted key whose hint this is, or null. */
export function trustedKeyByHint(keys: readonly TrustedKey[], hint: string | null): TrustedKey | null {
  if (hint === null) return null;
  return keys.find((k) => k.hint === hint) ?? null;
}

/**
 * The trusted key that made a valid signature on this DSSE envelope, or null. With a hint
 * only that key is tried; without one (older bundles, or an envelope from elsewhere, such
 * as a signed audit event) every trusted key is. The small function other features call
 * to mark something "signed by <name>".
 */
export function trustedSignerOf(envelope: DsseEnvelope, keys: readonly TrustedKey[], hint: string | null = null): TrustedKey | null {
  const candidates = hint === null ? keys : keys.filter((k) => k.hint === hint);
  for (const k of candidates) if (envelopeSignedBy(envelope, k)) return k;
  return null;
}
