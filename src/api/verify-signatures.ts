import { IntegrityError } from '../errors.js';
import { checkVersionSignatures, validSignerNames, type SignatureCheck } from '../signing/version-signatures.js';
import { stagesOfVersion } from '../store/version-records.js';
import { keysFromArguments, loadTrustedKeys, requiredSignerNames } from '../workspace/trusted-keys.js';
import { readVersionManifest } from './read-manifest.js';
import { withRepository, type CommonOptions } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

export type { SignatureCheck } from '../signing/version-signatures.js';

export interface VerifySignaturesOptions extends CommonOptions {
  ref: string;
  /** Keys that must also have signed (trust.keys names or PEM public key files), as `pull --signed-by`. */
  signedBy?: readonly string[];
}

/** The verdict on every signature of a version. The --json shape of `verify <ref> --signature`. */
export interface VerifySignaturesResult {
  version: VersionSummary;
  /** At least one valid signature by a trusted key, none invalid, every required signer present. */
  ok: boolean;
  signatures: SignatureCheck[];
  /** trust.keys names with a valid signature. */
  signedBy: string[];
  /** trust.keys names the version's model and stages require (require_signatures). */
  required: string[];
  /** Required names without a valid signature. */
  missing: string[];
}

/**
 * Checks every signature and attestation of a version against the trusted keys
 * (trust.keys) and the version's files, reading the index only once the files' sha256 are
 * known (docs/design.md §11). Never throws for a bad signature: the caller decides (the CLI
 * exits 6 through assertSignaturesVerified).
 */
export async function verifySignatures(opts: VerifySignaturesOptions): Promise<VerifySignaturesResult> {
  return withRepository(opts, (repo) => {
    const v = resolveIn(repo, opts.ref);
    const manifest = readVersionManifest(repo, v.id);
    // A key named on the command line is trusted for this check and required by it.
    const extra = keysFromArguments(opts.signedBy ?? [], repo.settings, repo.root, repo.cwd);
    const configured = loadTrustedKeys(repo.settings, repo.root);
    const trusted = [...configured, ...extra.filter((k) => !configured.some((c) => c.name === k.name))];
    const signatures = checkVersionSignatures(repo.db, repo.store, v.id, manifest.files, trusted);
    const signedBy = validSignerNames(signatures);
    const required = [...new Set([...requiredSignerNames(repo.settings, v.model, stagesOfVersion(repo.db, v.id)), ...extra.map((k) => k.name)])].sort();
    const missing = required.filter((n) => !signedBy.includes(n));
    const ok = signedBy.length > 0 && missing.length === 0 && signatures.every((s) => s.valid !== false);
    return { version: summarizeVersion(repo.db, v), ok, signatures, signedBy, required, missing };
  });
}

/**
 * Throws IntegrityError (exit 6) unless the result is ok: UNSIGNED (no valid signature by
 * a trusted key), SIGNATURE_INVALID (one is invalid), SIGNATURE_MISSING (a required signer
 * has not signed).
 */
export function assertSignaturesVerified(r: VerifySignaturesResult): void {
  if (r.ok) return;
  const bad = r.signatures.filter((s) => s.valid === false);
  const data = { signatures: r.signatures, missing: r.missing, signedBy: r.signedBy };
  if (bad.length) {
    throw new IntegrityError('SIGNATURE_INVALID', `${bad.length} invalid signature${bad.length === 1 ? '' : 's'} on ${r.version.ref}: ${bad.map((s) => `${s.kind} by ${s.keyName ?? s.keyHint.slice(0, 12)}: ${s.problem}`).join('; ')}`, {
      hint: 'do not deploy it; sign the version again with the release key, or find out who changed it',
      data,
    });
  }
  if (r.signedBy.length === 0) {
    // Only signatures count here (attestations vouch for provenance, not the files): say what else there is.
    const untrusted = r.signatures.filter((s) => s.kind === 'signature').length;
    const attestations = r.signatures.filter((s) => s.kind !== 'signature' && s.valid === true && s.keyName).length;
    const notes = [
      ...(untrusted ? [`${untrusted} signature${untrusted === 1 ? '' : 's'} by keys not in trust.keys, or not checkable`] : []),
      ...(attestations ? [`${attestations} valid attestation${attestations === 1 ? '' : 's'} by a trusted key, which ${attestations === 1 ? 'does' : 'do'} not sign the files`] : []),
    ];
    // Signed, but by a key this repository does not list: the fix is trusting the key, not signing again.
    const unlisted = r.signatures.find((s) => s.kind === 'signature' && s.keyName === null);
    throw new IntegrityError('UNSIGNED', `${r.version.ref} has no valid signature by a trusted key${notes.length ? ` (${notes.join('; ')})` : ''}`, {
      hint: unlisted
        ? `it is signed by key ${unlisted.keyHint.slice(0, 16)}…, which trust.keys does not list: if that is your key, list its public key (\`modelctl config set --shared trust.keys.<name> <public.pem>\`), or check it once with \`--signed-by <public.pem>\``
        : `sign it: \`modelctl sign ${r.version.ref} --key <private.pem>\`, and list the public key under trust.keys in modelctl.json`,
      data,
    });
  }
  throw new IntegrityError('SIGNATURE_MISSING', `${r.version.ref} is not signed by ${r.missing.map((n) => `'${n}'`).join(', ')}, which its model or stage policy (or --signed-by) requires`, {
    hint: `sign it: \`modelctl sign ${r.version.ref} --key <${r.missing[0]} private key>\``,
    data,
  });
}
