import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildEvent } from '../core/events.js';
import { ModelctlError, fsError } from '../errors.js';
import { bundleId, makeBundle } from '../signing/bundle.js';
import { loadSigningKey, type SigningKey } from '../signing/keys.js';
import { DEFAULT_IGNORE_PATHS, DEFAULT_SIGNATURE_FILE, statementBytes } from '../signing/oms-statement.js';
import { trustedKeyByHint } from '../signing/trust.js';
import { appendEvent } from '../store/events-table.js';
import { getEventRecord, type EventRecord } from '../store/history-queries.js';
import { writeTransaction } from '../store/index-db.js';
import { getSignature, insertSignature, type SignatureKind } from '../store/signatures-table.js';
import { wholeFileSha256Async } from '../store/whole-file-sha256.js';
import type { VersionRow } from '../store/version-records.js';
import type { ManifestFile, VersionManifest } from '../core/manifest.js';
import { writeFileAtomic } from '../workspace/atomic-file.js';
import { OUT_RECORD_DIR } from '../workspace/placement-record.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import { loadTrustedKeys } from '../workspace/trusted-keys.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';

/** What sign and attest did. The --json shape. */
export interface VersionSigningResult {
  kind: SignatureKind;
  version: VersionSummary;
  /** sha256 of the signer's public key PEM (the bundle's publicKey.hint). */
  keyHint: string;
  /** The trust.keys name of that key, or null when the repository does not trust it. */
  keyName: string | null;
  curve: string;
  /** False when the version already had a bundle of this kind by this key (kept as it was). */
  created: boolean;
  /** sha256 of the bundle bytes. */
  bundleId: string;
  /** Where the bundle was also written (`-o`), or null. */
  output: string | null;
  /** The sign/attest audit event; null when nothing was created. */
  event: EventRecord | null;
  warnings: string[];
}

/** Throws the file error (3, or 4 for a folder in the way) when `path` could not be written as a file now. */
function assertWritableFile(path: string): void {
  try {
    accessSync(dirname(path), constants.W_OK);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
  } catch (err) {
    throw fsError(err, path);
  }
}

/** Reads a private key file given on the command line (relative to the working folder). */
export function readSigningKeyFile(cwd: string, path: string, password?: string): SigningKey {
  const abs = resolve(cwd, path);
  let pem: Buffer;
  try {
    pem = readFileSync(abs);
  } catch (err) {
    throw fsError(err, abs);
  }
  return loadSigningKey(pem, path, password);
}

/** The whole-file sha256 of each file of a version, by path (from the index, else the store once). */
export async function versionFileSha256(repo: Repository, files: readonly ManifestFile[]): Promise<{ path: string; sha256: string }[]> {
  const sha = await wholeFileSha256Async(repo.db, repo.store, files);
  return files.map((f) => ({ path: f.path, sha256: sha.get(f.digest) as string }));
}

/**
 * Signs a statement about a version and stores the bundle with a `sign`/`attest` audit
 * event in one transaction (docs/design.md §11). One bundle per kind and key: when the
 * version already has one by this key, it is kept and nothing is recorded (`created`
 * false), so signing again is instant and the remote's create-only copy stays the same.
 */
export async function signVersionStatement(
  repo: Repository,
  target: VersionRow,
  manifest: VersionManifest,
  kind: SignatureKind,
  key: SigningKey,
  buildStatement: (files: { path: string; sha256: string }[]) => unknown,
  opts: { output?: string; argv?: string[] },
): Promise<VersionSigningResult> {
  const warnings: string[] = [];
  // `-o` is checked before the signature is made: a path that cannot be written must not
  // leave a stored signature and its event behind a failed command.
  if (opts.output) assertWritableFile(resolve(repo.cwd, opts.output));
  const keyName = trustedName(repo, key, warnings);
  let row = getSignature(repo.db, target.id, kind, key.hint);
  let event: EventRecord | null = null;
  if (!row) {
    const bundle = makeBundle(key, statementBytes(buildStatement(await versionFileSha256(repo, manifest.files))));
    const id = bundleId(bundle);
    const actor = await resolveActor(repo.root);
    const e = buildEvent({
      actor,
      host: hostName(),
      action: kind === 'signature' ? 'sign' : 'attest',
      model: target.model,
      version: target.id,
      from: null,
      to: null,
      reason: null,
      argv: opts.argv ?? [],
      data: { number: target.number, kind, keyHint: key.hint, keyName, curve: key.curve, bundle: id },
    });
    const stored = writeTransaction(repo.db, () => {
      const created = insertSignature(repo.db, { versionId: target.id, kind, keyHint: key.hint, bundle, bundleId: id, createdAt: e.at });
      if (created) appendEvent(repo.db, e);
      return created;
    });
    if (stored) event = getEventRecord(repo.db, e.id);
    row = getSignature(repo.db, target.id, kind, key.hint);
  }
  if (!row) throw new ModelctlError('INTERNAL', 'the signature was stored but cannot be read back');
  if (kind === 'signature') warnings.push(...folderVerifierWarnings(manifest.files));
  let output: string | null = null;
  if (opts.output) {
    output = resolve(repo.cwd, opts.output);
    writeFileAtomic(output, row.bundle);
  }
  return {
    kind,
    version: summarizeVersion(repo.db, target),
    keyHint: key.hint,
    keyName,
    curve: key.curve,
    created: event !== null,
    bundleId: row.bundleId,
    output,
    event,
    warnings,
  };
}

/**
 * The ignore list a version's OMS signature records. model_signing's verifier adds the
 * signed list to its own, so a folder that `pull --out` or `checkout --out` filled (the
 * files, model.sig, and modelctl's placement record, docs/design.md §10) verifies with
 * `model_signing verify key` unchanged.
 */
export const VERSION_SIGNATURE_IGNORES: readonly string[] = [...DEFAULT_IGNORE_PATHS, DEFAULT_SIGNATURE_FILE, OUT_RECORD_DIR];

function trustedName(repo: Repository, key: SigningKey, warnings: string[]): string | null {
  try {
    return trustedKeyByHint(loadTrustedKeys(repo.settings, repo.root), key.hint)?.name ?? null;
  } catch (err) {
    if (!(err instanceof ModelctlError)) throw err;
    warnings.push(`trust.keys could not be read (${err.message}); the signature is stored anyway`);
    return null;
  }
}

/** Files that `model_signing verify key` skips in a folder by default, so a folder check would call them missing. */
function folderVerifierWarnings(files: readonly ManifestFile[]): string[] {
  const ignored = files.filter((f) => VERSION_SIGNATURE_IGNORES.some((i) => f.path === i || f.path.startsWith(`${i}/`)));
  if (!ignored.length) return [];
  return [
    `model_signing verify key ignores ${ignored.map((f) => f.path).slice(0, 5).join(', ')} at the top of a model folder, so a deployed copy of this version verifies only with --no-ignore-git-paths (modelctl verify --signature is not affected)`,
  ];
}
