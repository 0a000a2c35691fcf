import { createHash } from 'node:crypto';
import * as z from 'zod';
import { IntegrityError } from '../errors.js';
import { canonicalJsonBytes } from './canonical-json.js';
import { manifestId } from './manifest-id.js';
import { isModelName } from './names.js';
import { unsafePathReason } from './paths.js';
import { parseUntrustedJson } from './untrusted-json.js';

/** The storage format version written into manifests, file lists and the remote marker. */
export const FORMAT_VERSION = 1;

const HEX64 = /^[0-9a-f]{64}$/;
const MAX_FILES = 1_000_000;
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

const digest = z.string().regex(HEX64, 'must be 64 lower-case hex digits');
const safePath = z.string().superRefine((p, ctx) => {
  const why = unsafePathReason(p);
  if (why) ctx.addIssue({ code: 'custom', message: `unsafe path: ${why}` });
});

/** One file of a version. `chunk` is present exactly when the file is one chunk long. */
export const manifestFileSchema = z.strictObject({
  path: safePath,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  mode: z.union([z.literal(0o644), z.literal(0o755)]),
  digest,
  chunk: digest.optional(),
});
export type ManifestFile = z.infer<typeof manifestFileSchema>;

export const dataInputSchema = z.strictObject({
  kind: z.enum(['file', 'dir', 'uri']),
  /** Repository-relative path (file/dir) or the URI as given, credentials stripped. */
  source: z.string().min(1).max(4096),
  digest: digest.optional(),
  size: z.number().int().nonnegative().optional(),
  files: z.number().int().nonnegative().optional(),
  etag: z.string().max(1024).optional(),
  versionId: z.string().max(1024).optional(),
});
export type DataInput = z.infer<typeof dataInputSchema>;

export const codeLineageSchema = z.strictObject({
  commit: z.string().max(128),
  branch: z.string().max(1024).nullable(),
  dirty: z.boolean(),
  diffHash: z.string().regex(HEX64).nullable(),
  remote: z.string().max(4096).nullable(),
  root: z.string().max(4096),
});
export type CodeLineage = z.infer<typeof codeLineageSchema>;

export const environmentSchema = z.strictObject({
  modelctl: z.string().max(64),
  node: z.string().max(64),
  os: z.string().max(256),
  hostname: z.string().max(256),
  user: z.string().max(256),
  ci: z.strictObject({ provider: z.string().max(64), jobUrl: z.string().max(4096).nullable() }).nullable(),
});
export type Environment = z.infer<typeof environmentSchema>;

/** The peak memory of a run's process tree and how it was measured (docs/design.md §14). */
export const peakMemorySchema = z.strictObject({
  bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** `proc-sampling`: the summed RSS of the tree read from /proc every `intervalMs`, or any process's own high-water mark if higher. */
  method: z.string().max(64),
  intervalMs: z.number().int().positive().max(3_600_000),
  samples: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type PeakMemory = z.infer<typeof peakMemorySchema>;

/** A working folder or file path relative to the repository root: `.` or a safe relative path. */
const runPath = z.string().superRefine((p, ctx) => {
  const why = p === '.' ? null : unsafePathReason(p);
  if (why) ctx.addIssue({ code: 'custom', message: `unsafe path: ${why}` });
});

/**
 * How `modelctl run` produced a version (docs/design.md §14). Optional in the lineage, so
 * manifests written before it existed still parse, stay canonical and keep their ids.
 */
export const runLineageSchema = z.strictObject({
  /** The command as run (argv), credentials redacted. */
  command: z.array(z.string().max(65536)).min(1).max(10_000),
  /** The folder it ran in, relative to the repository root (`.` for the root). */
  cwd: runPath,
  exitCode: z.number().int(),
  startedAt: z.iso.datetime(),
  durationMs: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** Null where the platform gives no way to measure it (no /proc). */
  peakMemory: peakMemorySchema.nullable(),
  /** The allow-listed environment variables that were set, credential-looking values redacted. */
  env: z.record(z.string().max(256), z.string().max(65536)),
  /** The version's file holding the command's combined output (`--log`), or null. */
  log: safePath.nullable(),
});
export type RunLineage = z.infer<typeof runLineageSchema>;

export const lineageSchema = z.strictObject({
  code: codeLineageSchema.nullable(),
  data: z.array(dataInputSchema).max(100_000),
  params: z.record(z.string().max(1024), jsonValue),
  metrics: z.record(z.string().max(1024), jsonValue),
  parent: z.strictObject({ model: z.string(), version: digest }).nullable(),
  environment: environmentSchema,
  argv: z.array(z.string().max(65536)).max(10_000),
  run: runLineageSchema.optional(),
});
export type Lineage = z.infer<typeof lineageSchema>;

export const versionManifestSchema = z
  .strictObject({
    format: z.literal(FORMAT_VERSION),
    model: z.string().refine(isModelName, 'invalid model name'),
    files: z.array(manifestFileSchema).max(MAX_FILES),
    lineage: lineageSchema,
    created: z.iso.datetime(),
    author: z.string().max(256),
    message: z.string().max(65536),
  })
  .superRefine((m, ctx) => {
    // Paths must be unique and, compared case-sensitively, sorted: one canonical form.
    for (let i = 1; i < m.files.length; i++) {
      if (m.files[i - 1].path >= m.files[i].path) {
        ctx.addIssue({ code: 'custom', message: `files not sorted or duplicated at '${m.files[i].path}'` });
        return;
      }
    }
    // A file may not also be a folder of another (a/b and a/b/c) — checkout would collide.
    const paths = new Set(m.files.map((f) => f.path));
    for (const f of m.files) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        if (paths.has(parts.slice(0, i).join('/'))) {
          ctx.addIssue({ code: 'custom', message: `path '${f.path}' is inside file '${parts.slice(0, i).join('/')}'` });
          return;
        }
      }
    }
  });
export type VersionManifest = z.infer<typeof versionManifestSchema>;

/** Serialises a manifest canonically; the version id is the sha256 of these bytes. */
export function serializeManifest(m: VersionManifest): Buffer {
  return canonicalJsonBytes(m);
}

/** sha256 hex of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export { manifestId } from './manifest-id.js';

/**
 * Parses manifest bytes read from anywhere untrusted. Checks, in order: the bytes hash
 * to `expectedId` (never re-serialised), they are valid UTF-8 JSON of bounded depth,
 * the schema holds (paths safe, digests well-formed, files sorted and unique) and the
 * bytes are in canonical form. Throws IntegrityError (exit 6) otherwise.
 */
export function parseManifest(bytes: Buffer, expectedId?: string): VersionManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new IntegrityError('MANIFEST_TOO_LARGE', 'manifest is too large');
  if (expectedId !== undefined && manifestId(bytes) !== expectedId) {
    throw new IntegrityError('MANIFEST_ID_MISMATCH', `manifest bytes do not hash to their id ${expectedId.slice(0, 12)}`, {
      hint: 'the manifest was corrupted or tampered with; run `modelctl verify`',
    });
  }
  const value = parseUntrustedJson(bytes, 'manifest');
  const parsed = versionManifestSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new IntegrityError('INVALID_MANIFEST', `invalid manifest: ${first.path.join('.')}: ${first.message}`);
  }
  if (!serializeManifest(parsed.data).equals(bytes)) {
    throw new IntegrityError('NON_CANONICAL_MANIFEST', 'manifest is not in canonical form');
  }
  return parsed.data;
}

/** Lives in untrusted-json.ts, which loads no validator; re-exported for the readers of remote documents. */
export { parseUntrustedJson };

/**
 * The part of a version that decides "nothing changed": files and the lineage a user
 * controls. Time, argv, environment and message are left out.
 */
export function versionIdentity(m: VersionManifest): string {
  const { code, data, params, metrics, parent } = m.lineage;
  return sha256Hex(
    canonicalJsonBytes({
      files: m.files,
      code: code && { commit: code.commit, dirty: code.dirty, diffHash: code.diffHash },
      data,
      params,
      metrics,
      parent,
    }),
  );
}
