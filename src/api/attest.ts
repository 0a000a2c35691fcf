import { buildProvenanceStatement } from '../signing/slsa-provenance.js';
import { MODELCTL_VERSION } from '../version.js';
import { readVersionManifest } from './read-manifest.js';
import { withRepository, type CommonOptions } from './repository.js';
import { readSigningKeyFile, signVersionStatement, type VersionSigningResult } from './version-signing.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface AttestOptions extends CommonOptions {
  ref: string;
  /** PEM private key file: EC on P-256, P-384 or P-521. */
  key: string;
  password?: string;
  /** Also write the bundle to this file. */
  output?: string;
  argv?: string[];
}

/**
 * Attests how a version was made (docs/design.md §11): an in-toto statement with a SLSA
 * provenance v1 predicate built from its lineage (code commit, data inputs, parent,
 * params, environment; builder modelctl), its subjects the version's files with their
 * sha256, signed in the same DSSE/Sigstore-bundle form as `sign` and stored and published
 * the same way, with an `attest` event.
 */
export async function attest(opts: AttestOptions): Promise<VersionSigningResult> {
  return withRepository(opts, async (repo) => {
    const target = resolveIn(repo, opts.ref);
    const key = readSigningKeyFile(repo.cwd, opts.key, opts.password);
    const manifest = readVersionManifest(repo, target.id);
    return signVersionStatement(
      repo,
      target,
      manifest,
      'attestation',
      key,
      (files) =>
        buildProvenanceStatement({
          model: manifest.model,
          versionId: target.id,
          created: manifest.created,
          author: manifest.author,
          message: manifest.message,
          files,
          lineage: manifest.lineage,
          modelctlVersion: MODELCTL_VERSION,
        }),
      { output: opts.output, argv: opts.argv },
    );
  });
}
