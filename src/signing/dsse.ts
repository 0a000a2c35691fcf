import { sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { SigningKey, VerifyingKey } from './keys.js';

/**
 * Dead Simple Signing Envelope (docs/design.md §11): the pre-authentication encoding and
 * ECDSA signatures over it, DER-encoded as the reference tool (Python `cryptography`)
 * makes them. Pure.
 */

/** The payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** One DSSE envelope as JSON (payload and signatures in standard base64 with padding). */
export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid?: string | null }[];
}

/** PAE = "DSSEv1" SP len(type) SP type SP len(payload) SP payload, lengths in bytes. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'ascii'), type, Buffer.from(` ${payload.length} `, 'ascii'), payload]);
}

/** Signs `payload` into an envelope with one signature (keyid "", as model_signing 1.1 writes). */
export function signEnvelope(key: SigningKey, payload: Buffer, payloadType = IN_TOTO_PAYLOAD_TYPE): DsseEnvelope {
  const sig = cryptoSign(key.hash, preAuthEncoding(payloadType, payload), { key: key.privateKey, dsaEncoding: 'der' });
  return { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] };
}

/**
 * True when some signature of the envelope is a valid ECDSA (DER) signature by `key` over
 * the PAE of the payload's decoded bytes (never re-serialised). Malformed base64 or DER is
 * simply not valid.
 */
export function envelopeSignedBy(envelope: DsseEnvelope, key: VerifyingKey): boolean {
  const payload = decodeBase64(envelope.payload);
  if (!payload) return false;
  const pae = preAuthEncoding(envelope.payloadType, payload);
  for (const s of envelope.signatures) {
    const sig = decodeBase64(s.sig);
    if (!sig) continue;
    try {
      if (cryptoVerify(key.hash, pae, { key: key.key, dsaEncoding: 'der' }, sig)) return true;
    } catch {
      /* not DER: not a valid signature */
    }
  }
  return false;
}

/** Standard or URL-safe base64 to bytes; null when the text is not base64 at all. */
export function decodeBase64(text: string): Buffer | null {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(text.replace(/\s+/g, ''))) return null;
  return Buffer.from(text, 'base64');
}
