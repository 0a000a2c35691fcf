import * as z from 'zod';
import { IntegrityError } from '../errors.js';
import { parseUntrustedJson, type Lineage } from '../core/manifest.js';
import { compareResourceNames, STATEMENT_TYPE } from './oms-statement.js';

/**
 * SLSA provenance v1 of a version (docs/design.md §11), built from its recorded lineage:
 * the subjects are the version's files with the sha256 of their bytes; the resolved
 * dependencies are the code commit, the data inputs and the parent version; the external
 * parameters are what the user chose (params, the command line, the message); the builder
 * is modelctl. Pure.
 */

export const SLSA_PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';
/** The build type this provenance describes: a modelctl commit of a model version. */
export const MODELCTL_BUILD_TYPE = 'https://www.npmjs.com/package/modelctl#build-type-commit-v1';
/** Builder id: modelctl as published on npm. */
export const MODELCTL_BUILDER_ID = 'pkg:npm/modelctl';
/** DigestSet key of a modelctl file digest (not a plain sha256 of the bytes: §4). */
export const MODELCTL_DIGEST_KEY = 'modelctlFileV1';

/** What the provenance is built from. */
export interface ProvenanceInput {
  model: string;
  versionId: string;
  created: string;
  author: string;
  message: string;
  files: readonly { path: string; sha256: string }[];
  lineage: Lineage;
  modelctlVersion: string;
}

/** The in-toto Statement v1 with the SLSA provenance v1 predicate of a version. */
export function buildProvenanceStatement(input: ProvenanceInput): Record<string, unknown> {
  const l = input.lineage;
  const dependencies: Record<string, unknown>[] = [];
  if (l.code) {
    const uri = l.code.remote ? `git+${l.code.remote}@${l.code.commit}` : `git+file:${l.code.root}@${l.code.commit}`;
    dependencies.push({
      uri,
      digest: { gitCommit: l.code.commit },
      annotations: { branch: l.code.branch, dirty: l.code.dirty, ...(l.code.diffHash ? { diffSha256: l.code.diffHash } : {}) },
    });
  }
  for (const d of l.data) {
    const digest: Record<string, string> = {};
    if (d.digest) digest[MODELCTL_DIGEST_KEY] = d.digest;
    if (d.etag) digest.etag = d.etag;
    dependencies.push({
      name: d.source,
      ...(d.kind === 'uri' ? { uri: d.source } : {}),
      ...(Object.keys(digest).length ? { digest } : {}),
      annotations: { kind: d.kind, ...(d.size !== undefined ? { size: d.size } : {}), ...(d.files !== undefined ? { files: d.files } : {}), ...(d.versionId ? { versionId: d.versionId } : {}) },
    });
  }
  if (l.parent) dependencies.push({ name: `${l.parent.model}@${l.parent.version}`, uri: `modelctl:${l.parent.model}@${l.parent.version}`, annotations: { kind: 'parent-model' } });
  return {
    _type: STATEMENT_TYPE,
    subject: [...input.files].sort((a, b) => compareResourceNames(a.path, b.path)).map((f) => ({ name: f.path, digest: { sha256: f.sha256 } })),
    predicateType: SLSA_PROVENANCE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: MODELCTL_BUILD_TYPE,
        externalParameters: { model: input.model, message: input.message, params: l.params, argv: l.argv },
        internalParameters: { environment: l.environment },
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: { id: MODELCTL_BUILDER_ID, version: { modelctl: l.environment.modelctl, attestedBy: input.modelctlVersion } },
        metadata: { invocationId: input.versionId, startedOn: input.created, finishedOn: input.created },
        byproducts: [{ name: 'metrics', content: Buffer.from(JSON.stringify(l.metrics)).toString('base64'), mediaType: 'application/json' }],
      },
    },
  };
}

const provenanceSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string().min(1), digest: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).passthrough() }).passthrough()).min(1),
  predicateType: z.literal(SLSA_PROVENANCE_TYPE),
  predicate: z.object({ buildDefinition: z.object({ buildType: z.string() }).passthrough(), runDetails: z.object({ builder: z.object({ id: z.string() }).passthrough() }).passthrough() }).passthrough(),
});

/**
 * The subjects of a signed SLSA provenance statement (name → sha256), checked for shape
 * and unique names. Not a provenance statement → IntegrityError (exit 6).
 */
export function parseProvenanceSubjects(payload: Buffer): Map<string, { algorithm: string; digest: string }> {
  const parsed = provenanceSchema.safeParse(parseUntrustedJson(payload, 'the signed provenance'));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new IntegrityError('SIGNATURE_INVALID', `the attestation is not a SLSA provenance v1 statement (${first.path.join('.') || '(root)'}: ${first.message})`, {
      hint: 'make it again with `modelctl attest`',
    });
  }
  const out = new Map<string, { algorithm: string; digest: string }>();
  for (const s of parsed.data.subject) {
    if (out.has(s.name)) throw new IntegrityError('SIGNATURE_INVALID', `the attestation names '${s.name}' twice`);
    out.set(s.name, { algorithm: 'sha256', digest: s.digest.sha256 });
  }
  return out;
}
