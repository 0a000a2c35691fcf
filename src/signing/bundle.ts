import { createHash } from 'node:crypto';
import * as z from 'zod';
import { IntegrityError } from '../errors.js';
import { parseUntrustedJson } from '../core/manifest.js';
import { decodeBase64, envelopeSignedBy, signEnvelope, type DsseEnvelope } from './dsse.js';
import type { SigningKey, VerifyingKey } from './keys.js';
import type { SignatureKind, SignatureRow } from '../store/signatures-table.js';

/**
 * The Sigstore bundle (v0.3, key mode) that carries a DSSE envelope: the `model.sig` file
 * of OpenSSF Model Signing (docs/design.md §11). Written as the reference tool writes it
 * (compact JSON, `publicKey.hint`, `tlogEntries: []`, `keyid: ""`); read in every form the
 * reference tool still reads: `rawBytes`/`keyDetails` without a hint (v0.3.1 to v1.0.1),
 * `keyid` null, "" or absent, `tlogEntries` absent. Pure.
 */

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Largest bundle read (a manifest of a million files stays below this). */
/** The largest signature bundle read (it lists every file's digest: large for a version of many files). */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

/** A bundle as read: its envelope and how it names its key. */
export interface SignatureBundle {
  envelope: DsseEnvelope;
  /** sha256 of the signer's SPKI PEM; null in bundles made before model_signing 1.1. */
  keyHint: string | null;
  /** The PEM the old formats embed (`rawBytes`), when present. */
  embeddedKeyPem: string | null;
}

/** Signs `payload` and wraps it in a bundle; returns the bundle's exact bytes. */
export function makeBundle(key: SigningKey, payload: Buffer): Buffer {
  const envelope = signEnvelope(key, payload);
  const bundle = {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: key.hint }, tlogEntries: [] },
    dsseEnvelope: { payload: envelope.payload, payloadType: envelope.payloadType, signatures: envelope.signatures },
  };
  return Buffer.from(JSON.stringify(bundle), 'utf8');
}

const signatureSchema = z.object({ sig: z.string().min(1), keyid: z.string().nullable().optional() }).passthrough();
const bundleSchema = z
  .object({
    mediaType: z.string(),
    verificationMaterial: z
      .object({
        publicKey: z.object({ hint: z.string().optional(), rawBytes: z.string().optional(), keyDetails: z.string().optional() }).passthrough().optional(),
        x509CertificateChain: z.unknown().optional(),
        certificate: z.unknown().optional(),
        tlogEntries: z.array(z.unknown()).optional(),
      })
      .passthrough(),
    dsseEnvelope: z.object({ payload: z.string().min(1), payloadType: z.string(), signatures: z.array(signatureSchema).min(1) }).passthrough(),
  })
  .passthrough();

/**
 * Reads a bundle from untrusted bytes: valid UTF-8 JSON of bounded depth, the v0.3 media
 * type, a DSSE envelope with at least one signature, and a public-key identifier (key
 * mode; certificate and Sigstore keyless bundles are refused with UNSUPPORTED_SIGNATURE).
 * Anything else → IntegrityError (exit 6).
 */
export function parseBundle(bytes: Buffer, what = 'the signature'): SignatureBundle {
  if (bytes.length === 0) throw invalidBundle(`${what} is empty`);
  if (bytes.length > MAX_BUNDLE_BYTES) throw invalidBundle(`${what} is too large`);
  const parsed = bundleSchema.safeParse(parseUntrustedJson(bytes, what));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw invalidBundle(`${what} is not a Sigstore bundle (${first.path.join('.') || '(root)'}: ${first.message})`);
  }
  const b = parsed.data;
  if (b.mediaType !== BUNDLE_MEDIA_TYPE) throw invalidBundle(`${what} has media type '${b.mediaType}', expected ${BUNDLE_MEDIA_TYPE}`);
  const vm = b.verificationMaterial;
  if (!vm.publicKey) {
    const method = vm.x509CertificateChain !== undefined ? 'a certificate chain' : vm.certificate !== undefined ? 'Sigstore keyless signing' : 'no key';
    throw new IntegrityError('UNSUPPORTED_SIGNATURE', `${what} was made with ${method}; modelctl checks signatures made with a key (model_signing sign key)`, {
      hint: 'verify it with `model_signing verify certificate|sigstore`, or sign the model with a key',
    });
  }
  const hint = vm.publicKey.hint;
  if (hint !== undefined && !/^[0-9a-f]{64}$/.test(hint)) throw invalidBundle(`${what} names its key by a hint that is not a sha256 ('${hint.slice(0, 80)}')`);
  let embeddedKeyPem: string | null = null;
  if (hint === undefined) {
    const raw = vm.publicKey.rawBytes === undefined ? null : decodeBase64(vm.publicKey.rawBytes);
    if (!raw) throw invalidBundle(`${what} names no key (neither publicKey.hint nor publicKey.rawBytes)`);
    embeddedKeyPem = raw.toString('utf8');
  }
  const env = b.dsseEnvelope;
  return {
    envelope: { payload: env.payload, payloadType: env.payloadType, signatures: env.signatures.map((s) => ({ sig: s.sig, keyid: s.keyid })) },
    keyHint: hint ?? null,
    embeddedKeyPem,
  };
}

/** The payload bytes of a bundle (base64-decoded; never re-serialised). */
export function bundlePayload(bundle: SignatureBundle): Buffer {
  const bytes = decodeBase64(bundle.envelope.payload);
  if (!bytes || bytes.length === 0) throw invalidBundle('the signature payload is not base64');
  return bytes;
}

/**
 * Checks that `key` made the bundle, as the reference verifier does: a hint, when present,
 * must be this key's (else KEY_MISMATCH); then the DSSE signature over the payload must
 * verify (else SIGNATURE_INVALID). Returns warnings (a bundle without a hint is checked
 * with the key given, and says so). Throws IntegrityError (exit 6).
 */
export function checkBundleSignature(bundle: SignatureBundle, key: VerifyingKey, keySource: string): string[] {
  const warnings: string[] = [];
  if (bundle.keyHint !== null && bundle.keyHint !== key.hint) {
    throw new IntegrityError('KEY_MISMATCH', `the signature was made by another key (hint ${bundle.keyHint.slice(0, 16)}…), not by ${keySource} (${key.hint.slice(0, 16)}…)`, {
      hint: "verify with the signer's public key",
      data: { signatureKeyHint: bundle.keyHint, keyHint: key.hint },
    });
  }
  if (bundle.keyHint === null) warnings.push('the signature names no key hint (made before model_signing 1.1); it was checked against the key given');
  if (!envelopeSignedBy(bundle.envelope, key)) {
    throw new IntegrityError('SIGNATURE_INVALID', `the signature does not verify with ${keySource}: the signed payload or the signature was changed, or another key signed it`, {
      hint: "get the signature again from whoever signed the model, and check you have the signer's public key",
    });
  }
  return warnings;
}

/**
 * A bundle that arrived from elsewhere (a remote, an imported bundle) under `filed`, as the
 * row to store: kept when it parses and names the key it is filed under; whether it is valid
 * is checked whenever it is used (docs/design.md §11). Throws IntegrityError (6): the parse's,
 * or MISFILED_SIGNATURE.
 */
export function filedSignatureRow(bytes: Buffer, filed: { versionId: string; kind: SignatureKind; hint: string }, what: string): SignatureRow {
  const bundle = parseBundle(bytes, what);
  if (bundle.keyHint !== filed.hint) throw new IntegrityError('MISFILED_SIGNATURE', `${what} names key ${bundle.keyHint ?? '(none)'}, not the key it is filed under`);
  return { versionId: filed.versionId, kind: filed.kind, keyHint: filed.hint, bundle: bytes, bundleId: bundleId(bytes), createdAt: new Date().toISOString() };
}

/** Identifies a bundle by its bytes (what audit events and remote tracking record). */
export function bundleId(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function invalidBundle(message: string): IntegrityError {
  return new IntegrityError('INVALID_SIGNATURE_FILE', message, { hint: 'give the model.sig file that model_signing or modelctl wrote' });
}
