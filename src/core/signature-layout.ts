/**
 * Where signatures and attestations live on a remote (docs/design.md §11):
 *   signatures/<version id>/<key hint>.sig       OMS bundle of that version by that key    create-only
 *   attestations/<version id>/<key hint>.json    SLSA provenance bundle                    create-only
 * One object per version, kind and key. Pure.
 */

export type SignatureObjectKind = 'signature' | 'attestation';

const FOLDERS = { signature: 'signatures/', attestation: 'attestations/' } as const;
const SUFFIX = { signature: '.sig', attestation: '.json' } as const;

/** The key prefix listing every bundle of one kind. */
export function signatureKindPrefix(kind: SignatureObjectKind): string {
  return FOLDERS[kind];
}

/** The key of a version's bundle of `kind` by the key with `hint`. */
export function signatureKey(versionId: string, kind: SignatureObjectKind, hint: string): string {
  return `${FOLDERS[kind]}${versionId}/${hint}${SUFFIX[kind]}`;
}

/** Splits a signature or attestation key; null for anything else (a reader skips it). */
export function parseSignatureKey(key: string): { versionId: string; kind: SignatureObjectKind; hint: string } | null {
  const m = /^(signatures|attestations)\/([0-9a-f]{64})\/([0-9a-f]{64})\.(sig|json)$/.exec(key);
  if (!m) return null;
  const kind: SignatureObjectKind = m[1] === 'signatures' ? 'signature' : 'attestation';
  if (m[4] !== SUFFIX[kind].slice(1)) return null;
  return { versionId: m[2], kind, hint: m[3] };
}
