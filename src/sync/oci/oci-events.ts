/**
 * A model's audit events on an OCI registry (docs/design.md §13): one artifact under the
 * tag `_modelctl-events` whose layers are the events, oldest first, each blob an event's
 * canonical JSON. Appending is read-modify-write of that tag (a registry has no conditional
 * writes): the writer re-reads after its PUT and appends again if a concurrent writer's PUT
 * replaced its own, so an event is lost only if its writer dies in that window.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, RemoteError } from '../../errors.js';
import { eventContentId, type AuditEvent } from '../../core/events.js';
import { sha256Hex } from '../../core/manifest.js';
import type { OciDescriptor, OciManifest } from '../../core/modelpack.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, EVENTS_TAG, MAX_MANIFEST_BYTES, buildEventsManifest, eventLayer, eventLayersOf, parseOciManifest } from '../../core/oci-artifact.js';
import { decodeDoc, eventDocSchema } from '../../core/remote-layout.js';
import { uploadBytesBlob } from '../../remote/oci/blob-upload.js';
import type { RegistryRepository } from '../../remote/oci/registry-repository.js';
import { refMovedBy, type UnpushedEvent } from '../../store/unpushed-events.js';
import { Rejections } from '../rejected-documents.js';

/** The event log of one model as read from the registry. */
export interface RegistryEventLog {
  /** Digest of the log's manifest (null: no log yet). */
  digest: string | null;
  manifest: OciManifest | null;
  /** The events it lists, in order. */
  entries: { layer: OciDescriptor; id: string }[];
}

/** Reads the event log of the repository (empty when there is none). */
export async function readEventLog(repo: RegistryRepository, rejections?: Rejections, push = false): Promise<RegistryEventLog> {
  const got = await repo.getManifest(EVENTS_TAG, push);
  if (!got) return { digest: null, manifest: null, entries: [] };
  const what = `${repo.name}:${EVENTS_TAG}`;
  const parse = () => parseOciManifest(got.bytes, what);
  const manifest = rejections ? rejections.parse(what, parse) : parse();
  if (!manifest) return { digest: got.digest, manifest: null, entries: [] };
  return { digest: got.digest, manifest, entries: eventLayersOf(manifest) };
}

/**
 * Downloads and checks the events of `entries` (each blob must hash to its digest, the
 * event to its id, and name `model`); a bad one is rejected and skipped.
 */
export async function readEvents(repo: RegistryRepository, model: string, entries: readonly { layer: OciDescriptor; id: string }[], rejections: Rejections, limit: <T>(fn: () => Promise<T>) => Promise<T>): Promise<AuditEvent[]> {
  const events = await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const key = `${repo.name}@${entry.layer.digest}`;
        if (entry.layer.size > 1024 * 1024) {
          rejections.reject(key, 'REMOTE_EVENT_INVALID', `event ${entry.id.slice(0, 12)} is ${entry.layer.size} bytes`);
          return null;
        }
        const res = await repo.getBlob(entry.layer.digest);
        if (!res || res.from !== 0) {
          rejections.reject(key, 'REMOTE_EVENT_MISSING', `event ${entry.id.slice(0, 12)} is listed in ${EVENTS_TAG} but its blob is missing`);
          return null;
        }
        const body = await readAll(res.res.stream!, 1024 * 1024);
        if (body === null || `sha256:${sha256Hex(body)}` !== entry.layer.digest) {
          rejections.reject(key, 'REMOTE_EVENT_INVALID', `event ${entry.id.slice(0, 12)} does not hash to its digest`);
          return null;
        }
        const e = rejections.parse(key, () => decodeDoc(eventDocSchema, body, key)) as AuditEvent | null;
        if (!e) return null;
        if (eventContentId(e) !== e.id || e.id !== entry.id || e.model !== model) {
          rejections.reject(key, 'REMOTE_EVENT_INVALID', `${key} does not hash to its id, or names another model`);
          return null;
        }
        return e;
      }),
    ),
  );
  return events.filter((e): e is AuditEvent => e !== null);
}

/** How many of the newest events `lastMoveOf` reads before it gives up. */
const LAST_MOVE_LOOKBACK = 32;

/**
 * Who moved `ref` of `model` to `version`, and when, by the newest matching event of the
 * registry's log (at most LAST_MOVE_LOOKBACK read, newest first); null when the log does not
 * say (no such event yet: a mover appends it after replacing the tag) or cannot be read.
 * For the message of a refused --push only: the log is not authenticated (§13).
 */
export async function lastMoveOf(repo: RegistryRepository, model: string, ref: { kind: 'tag' | 'stage'; name: string }, version: string): Promise<{ actor: string; at: string } | null> {
  try {
    const { entries } = await readEventLog(repo, undefined, true);
    const ignored = new Rejections();
    for (const entry of entries.slice(-LAST_MOVE_LOOKBACK).reverse()) {
      const [e] = await readEvents(repo, model, [entry], ignored, (fn) => fn());
      const moved = e ? refMovedBy(e) : null;
      if (e && moved?.kind === ref.kind && moved.name === ref.name && (e.version === version || e.to === version)) return { actor: e.actor, at: e.at };
    }
  } catch {
    /* the message falls back to "someone" */
  }
  return null;
}

async function readAll(stream: NodeJS.ReadableStream, max: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      (stream as { destroy?: () => void }).destroy?.();
      return null;
    }
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** How many times an append is tried against concurrent writers before giving up. */
const APPEND_ATTEMPTS = 8;

/**
 * Appends `events` (of `model`) to the repository's event log: the blobs first, then the
 * log's manifest with the events it lacks added at the end, then a re-read to make sure a
 * concurrent append did not replace this one (if it did, again). ConflictError (4) when the
 * log keeps changing under it; RemoteError (7) when the log would pass the registry's
 * manifest size limit.
 */
export async function appendEvents(repo: RegistryRepository, model: string, events: readonly UnpushedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const layers = new Map<string, OciDescriptor>();
  for (const { event, payload } of events) {
    const bytes = Buffer.from(payload, 'utf8');
    const sha = sha256Hex(bytes);
    if ((await repo.headBlob(`sha256:${sha}`, true)) === null) await uploadBytesBlob(repo, bytes, sha);
    layers.set(event.id, eventLayer(event, bytes, sha));
  }
  if ((await repo.headBlob(EMPTY_CONFIG.digest, true)) === null) await uploadBytesBlob(repo, EMPTY_CONFIG_BYTES, EMPTY_CONFIG.digest.slice(7));
  for (let attempt = 0; ; attempt++) {
    const log = await readEventLog(repo, undefined, true);
    const listed = new Set(log.entries.map((e) => e.id));
    const missing = [...layers].filter(([id]) => !listed.has(id));
    if (missing.length === 0) return;
    if (attempt === APPEND_ATTEMPTS) break;
    if (attempt > 0) await sleep(50 + Math.random() * 200 * attempt);
    const { bytes } = buildEventsManifest(model, [...(log.manifest?.layers ?? []), ...missing.map(([, l]) => l)]);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new RemoteError('EVENT_LOG_FULL', `the event log of ${repo.name} would pass the registry's ${MAX_MANIFEST_BYTES}-byte manifest limit`, {
        hint: 'the model has too many events for one OCI artifact; keep its audit trail on an s3:// or folder remote',
      });
    }
    await repo.putManifest(EVENTS_TAG, bytes);
  }
  throw new ConflictError('EVENT_LOG_CONTENDED', `the event log of ${repo.name} kept changing while modelctl appended to it`, {
    hint: 'others are writing to it right now; run the command again',
  });
}
