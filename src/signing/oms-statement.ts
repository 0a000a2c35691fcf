import { createHash } from 'node:crypto';
import * as z from 'zod';
import { IntegrityError } from '../errors.js';
import { parseUntrustedJson } from '../core/manifest.js';

/**
 * The in-toto Statement of an OpenSSF Model Signing v1.0 signature (docs/design.md §11):
 * one resource per file (its path and the digest of its whole bytes), a subject whose
 * sha256 is the root digest over the resources in canonical order, and the serialization
 * the signer used. Building and checking only; pure.
 */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const OMS_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** The predicate of model_signing 0.2.0, which this build does not read. */
export const LEGACY_OMS_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';
/** Ignored at the top of every model folder by the reference tool, signing and verifying. */
export const DEFAULT_IGNORE_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;
/** The reference tool's default signature file name (also ignored). */
export const DEFAULT_SIGNATURE_FILE = 'model.sig';

/** One resource of the manifest: a file (or shard) and its digest. */
export interface OmsResource {
  name: string;
  algorithm: string;
  digest: string;
}

/** `predicate.serialization`: how the signer enumerated and hashed the model. */
export interface OmsSerialization {
  method: 'files' | 'shards';
  hash_type: string;
  allow_symlinks: boolean;
  shard_size?: number;
  ignore_paths?: string[];
}

/** A statement as decoded and checked: what a verifier compares the model against. */
export interface OmsManifest {
  subjectName: string;
  rootDigest: string;
  serialization: OmsSerialization;
  /** Resource name → algorithm and digest. */
  resources: Map<string, { algorithm: string; digest: string }>;
}

/**
 * Orders resource names as the reference tool does: as POSIX paths compared part by part
 * (code point order within a part), so `a/b` sorts before `a.txt`; shard names
 * (`path:start:end`) by path, then numerically by offsets.
 */
export function compareResourceNames(a: string, b: string, shards = false): number {
  const pa = shards ? splitShard(a) : { path: a, start: 0, end: 0 };
  const pb = shards ? splitShard(b) : { path: b, start: 0, end: 0 };
  const c = comparePosixPaths(pa.path, pb.path);
  if (c !== 0) return c;
  return pa.start - pb.start || pa.end - pb.end;
}

function comparePosixPaths(a: string, b: string): number {
  const xa = a.split('/').filter((p) => p !== '' && p !== '.');
  const xb = b.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const c = compareCodePoints(xa[i], xb[i]);
    if (c !== 0) return c;
  }
  return xa.length - xb.length;
}

/** Code point order (JavaScript's `<` compares UTF-16 code units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) as number) - (y.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}

function splitShard(name: string): { path: string; start: number; end: number } {
  const m = /^(.*):(\d+):(\d+)$/s.exec(name);
  return m ? { path: m[1], start: Number(m[2]), end: Number(m[3]) } : { path: name, start: 0, end: 0 };
}

/** sha256 over the raw bytes of every resource digest, in canonical order (the subject digest). */
export function rootDigest(sortedDigests: readonly string[]): string {
  const h = createHash('sha256');
  for (const d of sortedDigests) h.update(Buffer.from(d, 'hex'));
  return h.digest('hex');
}

/** Builds the statement of a model whose files are given by name and sha256 (sorted here). */
export function buildOmsStatement(opts: { subjectName: string; files: readonly { name: string; sha256: string }[]; ignorePaths?: readonly string[] }): Record<string, unknown> {
  const resources = [...opts.files]
    .sort((a, b) => compareResourceNames(a.name, b.name))
    .map((f) => ({ name: f.name, algorithm: 'sha256', digest: f.sha256 }));
  const serialization: OmsSerialization = { method: 'files', hash_type: 'sha256', allow_symlinks: false };
  if (opts.ignorePaths?.length) serialization.ignore_paths = [...opts.ignorePaths];
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: opts.subjectName, digest: { sha256: rootDigest(resources.map((r) => r.digest)) } }],
    predicateType: OMS_PREDICATE_TYPE,
    predicate: { resources, serialization },
  };
}

/** Statement bytes as signed: indented JSON like the reference tool's (any JSON is valid; the bytes are what counts). */
export function statementBytes(statement: unknown): Buffer {
  return Buffer.from(JSON.stringify(statement, null, 2), 'utf8');
}

const hex = z.string().regex(/^[0-9a-f]+$/, 'must be lower-case hex');
const statementSchema = z.object({
  _type: z.string(),
  subject: z.array(z.object({ name: z.string(), digest: z.record(z.string(), z.string()) }).passthrough()),
  predicateType: z.string(),
  predicate: z.unknown(),
});
const predicateSchema = z
  .object({
    resources: z.array(z.object({ name: z.string().min(1), algorithm: z.string().min(1), digest: hex }).passthrough()).max(10_000_000),
    serialization: z
      .object({
        method: z.enum(['files', 'shards']),
        hash_type: z.string().min(1),
        allow_symlinks: z.boolean(),
        // protobuf Struct numbers are doubles: the reference writes 1000000000.0
        shard_size: z.number().positive().optional(),
        ignore_paths: z.array(z.string()).optional(),
      })
      .passthrough(),
  })
  .passthrough();

/**
 * Decodes and checks the statement of an OMS signature from its payload bytes, in the
 * reference verifier's order: statement type, predicate type, exactly one subject, the
 * predicate's shape, unique resource names, and the subject digest recomputed over the
 * resources. Anything else → IntegrityError (exit 6).
 */
export function parseOmsStatement(payload: Buffer): OmsManifest {
  const parsed = statementSchema.safeParse(parseUntrustedJson(payload, 'the signed statement'));
  if (!parsed.success) throw invalid(`the signed statement is not an in-toto statement (${issue(parsed.error)})`);
  const s = parsed.data;
  if (s._type !== STATEMENT_TYPE) throw invalid(`the statement type is '${s._type}', expected ${STATEMENT_TYPE}`);
  if (s.predicateType === LEGACY_OMS_PREDICATE_TYPE) {
    throw new IntegrityError('UNSUPPORTED_SIGNATURE', 'the signature uses the predicate of model_signing 0.2.0 (Digests/v0.1), which modelctl does not read', {
      hint: 'sign the model again with a current model_signing or `modelctl sign`',
    });
  }
  if (s.predicateType !== OMS_PREDICATE_TYPE) throw invalid(`the predicate type is '${s.predicateType}', not an OpenSSF Model Signing signature (${OMS_PREDICATE_TYPE})`);
  if (s.subject.length !== 1) throw invalid(`the statement has ${s.subject.length} subjects; a model signature has exactly one`);
  const p = predicateSchema.safeParse(s.predicate);
  if (!p.success) throw invalid(`the signed predicate is malformed (${issue(p.error)})`);
  const shards = p.data.serialization.method === 'shards';
  const resources = new Map<string, { algorithm: string; digest: string }>();
  for (const r of p.data.resources) {
    if (resources.has(r.name)) throw invalid(`the signed manifest names '${r.name}' twice`);
    resources.set(r.name, { algorithm: r.algorithm, digest: r.digest });
  }
  const sorted = [...resources.keys()].sort((a, b) => compareResourceNames(a, b, shards));
  const root = rootDigest(sorted.map((n) => (resources.get(n) as { digest: string }).digest));
  if (s.subject[0].digest.sha256 !== root) {
    throw invalid('the signed manifest is inconsistent: its subject digest is not the digest of its resources');
  }
  const { serialization } = p.data;
  return {
    subjectName: s.subject[0].name,
    rootDigest: root,
    serialization: {
      method: serialization.method,
      hash_type: serialization.hash_type,
      allow_symlinks: serialization.allow_symlinks,
      ...(serialization.shard_size !== undefined ? { shard_size: serialization.shard_size } : {}),
      ...(serialization.ignore_paths ? { ignore_paths: serialization.ignore_paths } : {}),
    },
    resources,
  };
}

/** How a model's files differ from a signed manifest (each list sorted). */
export interface ManifestDifference {
  /** Signed, present, different digest (or algorithm). */
  changed: string[];
  /** Signed, not present. */
  missing: string[];
  /** Present, not signed. */
  extra: string[];
}

/** Compares actual files (name → algorithm and digest) with a signed manifest. */
export function diffManifest(signed: OmsManifest['resources'], actual: ReadonlyMap<string, { algorithm: string; digest: string }>): ManifestDifference {
  const changed: string[] = [];
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [name, want] of signed) {
    const got = actual.get(name);
    if (!got) missing.push(name);
    else if (got.digest !== want.digest || got.algorithm !== want.algorithm) changed.push(name);
  }
  for (const name of actual.keys()) if (!signed.has(name)) extra.push(name);
  const order = (x: string[]) => x.sort((a, b) => compareResourceNames(a, b));
  return { changed: order(changed), missing: order(missing), extra: order(extra) };
}

/** True when nothing differs. */
export function manifestsMatch(d: ManifestDifference): boolean {
  return d.changed.length === 0 && d.missing.length === 0 && d.extra.length === 0;
}

function invalid(message: string): IntegrityError {
  return new IntegrityError('SIGNATURE_INVALID', message, { hint: 'the signature file was damaged or edited; get it again from whoever signed the model' });
}

function issue(err: z.ZodError): string {
  const first = err.issues[0];
  return `${first.path.join('.') || '(root)'}: ${first.message}`;
}
