import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { IntegrityError, fsError } from '../errors.js';
import { bundlePayload, checkBundleSignature, parseBundle } from '../signing/bundle.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../signing/dsse.js';
import { loadVerifyingKey } from '../signing/keys.js';
import { DEFAULT_IGNORE_PATHS, diffManifest, manifestsMatch, parseOmsStatement } from '../signing/oms-statement.js';
import { describeDifference } from '../signing/version-signatures.js';
import { sha256OfFileAsync } from '../store/whole-file-sha256.js';
import { listModelFolder, signedModelFiles } from '../workspace/oms-folder.js';

export interface VerifySignatureOptions {
  /** Folder to resolve relative paths against (the CLI's -C); default process.cwd(). */
  cwd?: string;
  /** The model: a folder, or one file. */
  path: string;
  /** The OMS bundle (model.sig). */
  signature: string;
  /** The signer's PEM public key. */
  key: string;
  /** More paths to leave out, relative to cwd (those outside the model are dropped). */
  ignorePaths?: string[];
  /** Leave out .git, .gitattributes, .github and .gitignore at the top (default true). */
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  /** Check only the signed files; files not in the signature do not fail it. */
  ignoreUnsignedFiles?: boolean;
}

/** A folder that verified. The --json shape of `verify-signature`. */
export interface VerifySignatureResult {
  ok: true;
  model: string;
  signature: string;
  keyHint: string;
  curve: string;
  subjectName: string;
  rootDigest: string;
  /** Files checked. */
  files: number;
  warnings: string[];
}

/**
 * Verifies any folder (or file) signed with OpenSSF Model Signing, as
 * `model_signing verify key` does (docs/design.md §11): the bundle (every format the
 * reference tool still reads), the key (its hint when the bundle has one), the DSSE
 * signature, the statement, then the files, enumerated with the same ignore rules (the
 * signature file, .git paths at the top, the signed ignore_paths, --ignore-paths) and
 * hashed with sha256; a changed, missing or unsigned file fails unless
 * `ignoreUnsignedFiles` (unsigned ones only). Any failure → IntegrityError (exit 6),
 * naming the files in `data`. Needs no repository.
 */
export async function verifySignature(opts: VerifySignatureOptions): Promise<VerifySignatureResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const root = resolve(cwd, opts.path);
  const sigPath = resolve(cwd, opts.signature);
  const keyPath = resolve(cwd, opts.key);
  const key = loadVerifyingKey(readOrThrow(keyPath), opts.key);
  const bundle = parseBundle(readOrThrow(sigPath), opts.signature);
  const warnings = checkBundleSignature(bundle, key, opts.key);
  if (bundle.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new IntegrityError('SIGNATURE_INVALID', `the signed payload type is '${bundle.envelope.payloadType}', not an in-toto statement`);
  }
  const manifest = parseOmsStatement(bundlePayload(bundle));
  const { method, hash_type: hashType } = manifest.serialization;
  if (method !== 'files' || hashType !== 'sha256') {
    // model_signing verify key always re-hashes with files + sha256, so such a bundle can
    // never verify there either; say why instead of listing every file as changed.
    throw new IntegrityError('UNSUPPORTED_SIGNATURE', `the model was signed with serialization ${method}/${hashType}; verify key checks files hashed with sha256`, {
      hint: 'sign it with the default serialization (files, sha256)',
    });
  }

  const inside = (p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
  const ignore = new Set<string>();
  for (const p of opts.ignorePaths ?? []) {
    const abs = resolve(cwd, p);
    if (inside(abs)) ignore.add(abs);
  }
  if (inside(sigPath)) ignore.add(sigPath);
  if (opts.ignoreGitPaths ?? true) for (const p of DEFAULT_IGNORE_PATHS) ignore.add(resolve(root, p));
  for (const p of manifest.serialization.ignore_paths ?? []) ignore.add(resolve(root, p));

  const allowSymlinks = opts.allowSymlinks ?? false;
  const listed = opts.ignoreUnsignedFiles
    ? signedModelFiles(root, manifest.resources.keys(), allowSymlinks)
    : listModelFolder({ root, ignore: [...ignore], allowSymlinks });
  const actual = new Map<string, { algorithm: string; digest: string }>();
  for (const f of listed) actual.set(f.name, { algorithm: 'sha256', digest: (await sha256OfFileAsync(f.abs)).sha256 });
  const diff = diffManifest(manifest.resources, actual);
  if (opts.ignoreUnsignedFiles) diff.extra = [];
  if (!manifestsMatch(diff)) {
    const code = diff.changed.length ? 'SIGNED_FILE_CHANGED' : diff.missing.length ? 'SIGNED_FILE_MISSING' : 'UNSIGNED_FILE';
    throw new IntegrityError(code, `${root} does not match its signature: ${describeDifference(diff).replace(/^the files differ from what was signed — /, '')}`, {
      hint: diff.extra.length && !diff.changed.length && !diff.missing.length ? 'remove the files that were not signed, or pass --ignore-unsigned-files' : 'do not use this model: it is not what was signed',
      data: { changed: diff.changed, missing: diff.missing, extra: diff.extra },
    });
  }
  return { ok: true, model: root, signature: sigPath, keyHint: key.hint, curve: key.curve, subjectName: manifest.subjectName, rootDigest: manifest.rootDigest, files: actual.size, warnings };
}

function readOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fsError(err, path);
  }
}
