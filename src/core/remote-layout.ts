import * as z from 'zod';
import { IntegrityError } from '../errors.js';
import { canonicalJsonBytes } from './canonical-json.js';
import { auditEventFields } from './event-schema.js';
import { FORMAT_VERSION, parseUntrustedJson } from './manifest.js';

/**
 * The remote layout of format version 1 (docs/design.md §6): key names and the small JSON documents
 * stored under them. Pure: no I/O. Every document read from a remote is untrusted and goes
 * through one of the `parse*` functions here.
 */
export const MARKER_KEY = 'MODELCTL.json';

export const keys = {
  chunk: (digest: string) => `chunks/${digest}`,
  fileList: (digest: string) => `files/${digest}.json`,
  version: (id: string) => `versions/${id}.json`,
  modelPrefix: (model: string) => `models/${model}/`,
  numbersPrefix: (model: string) => `models/${model}/numbers/`,
  number: (model: string, n: number) => `models/${model}/numbers/${n}.json`,
  tagsPrefix: (model: string) => `models/${model}/tags/`,
  tag: (model: string, tag: string) => `models/${model}/tags/${tag}.json`,
  stagesPrefix: (model: string) => `models/${model}/stages/`,
  stage: (model: string, stage: string) => `models/${model}/stages/${stage}.json`,
  eventsPrefix: (model: string) => `models/${model}/events/`,
  removedPrefix: (model: string) => `models/${model}/removed/`,
  /** A removed version's tombstone (docs/design.md §16): its number stays taken. */
  removed: (model: string, n: number) => `models/${model}/removed/${n}.json`,
  /** The remote gc state: epoch, phase and lease (docs/design.md §16). */
  gcState: 'gc/state.json',
  /** Time first so a listing sorts oldest first; ':' is avoided for file systems that refuse it. */
  event: (model: string, at: string, id: string) => `models/${model}/events/${at.replace(/:/g, '-')}-${id}.json`,
};

/**
 * Splits a key under `models/` into model, kind and name. A namespaced model
 * (`team/fraud`) has one more segment; the kind folder decides where the model ends, and
 * the name must be a single segment ending in `.json`.
 */
export function parseModelKey(key: string): { model: string; kind: ModelKeyKind; name: string } | null {
  const m = /^models\/((?:[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*)\/(numbers|tags|stages|events|removed)\/([^/]+)\.json$/.exec(key);
  if (!m) return null;
  return { model: m[1], kind: m[2] as ModelKeyKind, name: m[3] };
}

/** The folders of a model on a remote. */
export type ModelKeyKind = 'numbers' | 'tags' | 'stages' | 'events' | 'removed';

const HEX64 = /^[0-9a-f]{64}$/;
const digest = z.string().regex(HEX64);

/** The format marker: written on first push, checked on every contact. */
export const markerSchema = z.object({
  format: z.literal('modelctl'),
  version: z.number().int(),
  chunking: z.object({
    algorithm: z.string(),
    minSize: z.number(),
    avgSize: z.number(),
    maxSize: z.number(),
    maskS: z.number(),
    maskL: z.number(),
    gearSeed: z.string(),
    gearTableSha256: z.string(),
  }),
  created: z.string().optional(),
});
export type RemoteMarker = z.infer<typeof markerSchema>;

/** A multi-chunk file's chunk list: `[digest, length]` pairs in order. */
export const fileListSchema = z.strictObject({
  format: z.literal(FORMAT_VERSION),
  digest,
  size: z.number().int().nonnegative(),
  chunks: z.array(z.tuple([digest, z.number().int().positive().max(64 * 1024 * 1024)])).min(2).max(10_000_000),
});
export type FileList = z.infer<typeof fileListSchema>;

export const numberDocSchema = z.strictObject({ version: digest });
export type NumberDoc = z.infer<typeof numberDocSchema>;

export const tagDocSchema = z.strictObject({
  version: digest,
  message: z.string().max(65536).nullable(),
  actor: z.string().max(256),
  at: z.string().max(64),
  event: digest.nullable(),
});
export type TagDoc = z.infer<typeof tagDocSchema>;

export const stageDocSchema = z.strictObject({
  version: digest,
  previous: digest.nullable(),
  event: digest.nullable(),
  actor: z.string().max(256),
  at: z.string().max(64),
});
export type StageDoc = z.infer<typeof stageDocSchema>;

/** A removed version's tombstone: create-only, never deleted, so the number is never reused. */
export const removedDocSchema = z.strictObject({
  version: digest,
  number: z.number().int().positive(),
  reason: z.string().max(65536),
  actor: z.string().max(256),
  at: z.string().max(64),
  event: digest,
});
export type RemovedDoc = z.infer<typeof removedDocSchema>;

/**
 * The remote gc state (compare-and-swap). `epoch` grows by one when a sweep starts and
 * again when it ends, so a writer that saw the same idle epoch before and after its checks
 * knows no sweep ran in between. `lease_ms`: a sweeping gc renews the document well within
 * it and deletes nothing once it could not.
 */
export const gcStateSchema = z.strictObject({
  format: z.literal(1),
  epoch: z.number().int().nonnegative(),
  phase: z.enum(['idle', 'mark', 'sweep']),
  owner: z.strictObject({ host: z.string().max(256), pid: z.number().int(), token: z.string().max(64), actor: z.string().max(256) }).nullable(),
  lease_ms: z.number().int().positive(),
  at: z.string().max(64),
});
export type GcState = z.infer<typeof gcStateSchema>;

/** An audit event as published under models/<name>/events/: known fields typed, later ones kept (the content id covers all). */
export const eventDocSchema = z.looseObject(auditEventFields);

/** Serialises a remote document canonically. */
export function encodeDoc(doc: unknown): Buffer {
  return canonicalJsonBytes(doc);
}

/** Parses an untrusted remote document with its schema; IntegrityError (6) naming the key otherwise. */
export function decodeDoc<T>(schema: z.ZodType<T>, bytes: Buffer, key: string): T {
  const raw = parseUntrustedJson(bytes, key);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IntegrityError('INVALID_REMOTE_DOCUMENT', `${key} on the remote is invalid: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      hint: 'the remote holds a crafted or corrupted document; do not trust it',
    });
  }
  return parsed.data;
}
