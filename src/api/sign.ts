import { buildOmsStatement } from '../signing/oms-statement.js';
import { readVersionManifest } from './read-manifest.js';
import { withRepository, type CommonOptions } from './repository.js';
import { VERSION_SIGNATURE_IGNORES, readSigningKeyFile, signVersionStatement, type VersionSigningResult } from './version-signing.js';
import { resolveIn } from '../workspace/resolve-in.js';

export type { VersionSigningResult } from './version-signing.js';

export interface SignOptions extends CommonOptions {
  /** The version to sign (docs/design.md §2 reference). */
  ref: string;
  /** PEM private key file: EC on P-256, P-384 or P-521. */
  key: string;
  /** Password of an encrypted PEM key. */
  password?: string;
  /** Also write the bundle (model.sig) to this file. */
  output?: string;
  /** Recorded in the audit event. */
  argv?: string[];
}

/**
 * Signs a version with OpenSSF Model Signing v1.0 (docs/design.md §11): an in-toto
 * statement naming every file of the version by its path and the sha256 of its bytes,
 * signed with DSSE in a Sigstore bundle, stored in the index with a `sign` event. The
 * files' sha256 come from the store once and are kept. A key OMS does not accept →
 * UsageError (2); the version's bytes not local → IntegrityError (6).
 */
export async function sign(opts: SignOptions): Promise<VersionSigningResult> {
  return withRepository(opts, async (repo) => {
    const target = resolveIn(repo, opts.ref);
    const key = readSigningKeyFile(repo.cwd, opts.key, opts.password);
    const manifest = readVersionManifest(repo, target.id);
    return signVersionStatement(
      repo,
      target,
      manifest,
      'signature',
      key,
      (files) => buildOmsStatement({ subjectName: target.model, files: files.map((f) => ({ name: f.path, sha256: f.sha256 })), ignorePaths: VERSION_SIGNATURE_IGNORES }),
      { output: opts.output, argv: opts.argv },
    );
  });
}
