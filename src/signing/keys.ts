import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';

/**
 * EC keys as OpenSSF Model Signing accepts them (docs/design.md §11): P-256, P-384 and
 * P-521 only, each with its fixed hash, as the reference tool `model_signing` does.
 * Pure: keys come in as PEM text; reading the files is the caller's job.
 */

/** The curves OMS allows, with the hash each one signs with. */
export const CURVES = {
  'P-256': { nodeName: 'prime256v1', hash: 'sha256', keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
  'P-384': { nodeName: 'secp384r1', hash: 'sha384', keyDetails: 'PKIX_ECDSA_P384_SHA_384' },
  'P-521': { nodeName: 'secp521r1', hash: 'sha512', keyDetails: 'PKIX_ECDSA_P521_SHA_512' },
} as const;
export type Curve = keyof typeof CURVES;
export type SignatureHash = (typeof CURVES)[Curve]['hash'];

/** A public key that can check OMS signatures. */
export interface VerifyingKey {
  key: KeyObject;
  curve: Curve;
  hash: SignatureHash;
  /** SubjectPublicKeyInfo PEM, 64-character lines, trailing newline (what the hint hashes). */
  pem: string;
  /** `verificationMaterial.publicKey.hint`: lower-case hex sha256 of `pem`. */
  hint: string;
}

/** A private key that can make OMS signatures, with its public half. */
export interface SigningKey extends VerifyingKey {
  privateKey: KeyObject;
}

/** Where a key came from, for messages ("release" from trust.keys, or a file path). */
export type KeySource = string;

/**
 * Reads a PEM private key (PKCS#8 or SEC1; text before the PEM block, as GnuTLS certtool
 * writes, is skipped). Not EC on an allowed curve, unreadable, or encrypted without a
 * password → UsageError (exit 2) naming the source.
 */
export function loadSigningKey(pem: string | Buffer, source: KeySource, password?: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pemBlock(pem, source), format: 'pem', passphrase: password });
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(pem.toString());
    // The public half (keys/release.pub, what trust.keys names) is the usual mix-up.
    if (/-----BEGIN PUBLIC KEY-----/.test(pem.toString())) {
      throw new UsageError('NOT_A_PRIVATE_KEY', `${source} is a public key: signing needs the private key it was made from`, {
        hint: 'pass the private key (e.g. `--key release.pem`); the public one goes under trust.keys to verify with',
      });
    }
    throw new UsageError('INVALID_KEY', `${source} is not a readable PEM private key${encrypted && !password ? ' (it is encrypted: give its password)' : ''}: ${(err as Error).message}`, {
      hint: 'make one with `openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out release.pem`',
    });
  }
  const pub = describe(createPublicKey(privateKey), source);
  return { ...pub, privateKey };
}

/**
 * Reads a PEM public key (SubjectPublicKeyInfo; leading text is skipped, as in the
 * reference tool's test key). A private key is accepted too (its public half is used), so
 * `--key` can name either. Not EC on an allowed curve → UsageError (exit 2).
 */
export function loadVerifyingKey(pem: string | Buffer, source: KeySource): VerifyingKey {
  const block = pemBlock(pem, source);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: block, format: 'pem' });
  } catch (err) {
    throw new UsageError('INVALID_KEY', `${source} is not a readable PEM public key: ${(err as Error).message}`, {
      hint: 'export the public half with `openssl pkey -in release.pem -pubout -out release.pub`',
    });
  }
  return describe(key, source);
}

/** hex sha256 of a public key's SPKI PEM text: the `publicKey.hint` of the reference tool. */
export function keyHint(key: KeyObject): string {
  return createHash('sha256').update(spkiPem(key)).digest('hex');
}

function describe(key: KeyObject, source: KeySource): VerifyingKey {
  const curve = curveOf(key);
  if (!curve) {
    const kind = key.asymmetricKeyType === 'ec' ? `EC curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : (key.asymmetricKeyType ?? 'unknown').toUpperCase();
    throw new UsageError('UNSUPPORTED_KEY', `${source} is a ${kind} key; OpenSSF Model Signing accepts only elliptic-curve keys on P-256, P-384 or P-521`, {
      hint: 'make a P-256 key with `openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out release.pem`',
    });
  }
  const pem = spkiPem(key);
  return { key, curve, hash: CURVES[curve].hash, pem, hint: createHash('sha256').update(pem).digest('hex') };
}

function curveOf(key: KeyObject): Curve | null {
  if (key.asymmetricKeyType !== 'ec') return null;
  const named = key.asymmetricKeyDetails?.namedCurve;
  for (const [curve, info] of Object.entries(CURVES) as [Curve, (typeof CURVES)[Curve]][]) if (info.nodeName === named) return curve;
  return null;
}

function spkiPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** The text from the first `-----BEGIN` on: leading prose (certtool's key info) is dropped. */
function pemBlock(pem: string | Buffer, source: KeySource): string {
  const text = pem.toString();
  const at = text.indexOf('-----BEGIN');
  if (at < 0) throw new UsageError('INVALID_KEY', `${source} holds no PEM block (-----BEGIN …)`, { hint: 'give a PEM key file' });
  return text.slice(at);
}
