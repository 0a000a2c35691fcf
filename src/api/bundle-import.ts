import { closeSync, existsSync, fsyncSync, statSync, statfsSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, IntegrityError, ModelctlError, NotFoundError, UsageError } from '../errors.js';
import { eventContentId, eventPayload, type AuditEvent } from '../core/events.js';
import { parseManifest, parseUntrustedJson, versionIdentity, type VersionManifest } from '../core/manifest.js';
import { assertTagName, isModelName, printable } from '../core/names.js';
import { appendEvent } from '../store/events-table.js';
import { ChunkHasher, type ChunkRef } from '../store/hash-file.js';
import { assertObjectsKept } from '../store/gc-claims.js';
import { writeTransaction } from '../store/index-db.js';
import { getTag, setTag } from '../store/tags-table.js';
import { insertSignature, type SignatureRow } from '../store/signatures-table.js';
import { MAX_BUNDLE_BYTES, filedSignatureRow } from '../signing/bundle.js';
import { barrier } from '../store/test-barrier.js';
import { discardTempFile, interruptionPoint } from '../store/temp-files.js';
import {
  ensureModel,
  getVersion,
  getVersionByNumber,
  insertVersion,
  nextVersionNumber,
  recordObject,
} from '../store/version-records.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_LIMITS,
  BUNDLE_MARKER,
  bundleEventSchema,
  bundleMarkerSchema,
  bundleNotRecognised,
  readBundle,
  type BundleEntryKind,
  type BundleMarker,
  type BundleReadEntry,
} from '../workspace/bundle.js';
import { resolveActor } from '../workspace/identity.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { ensureTensorSummaries } from './tensor-summary-step.js';

/** The bundle to import into the repository at `cwd`. */
export interface ImportOptions extends CommonOptions {
  /** The bundle file (`.tar`, `.tar.gz`, `.tgz`; gzip is detected from the bytes). */
  file: string;
}

/** What the import added, found present or left out. */
export interface ImportResult {
  /** False when the repository had this version already (its objects were still verified). */
  created: boolean;
  version: VersionSummary;
  /** The number the version had where it was exported. */
  sourceNumber: number;
  /** True when that number was taken here and the version got the next free one. */
  renumbered: boolean;
  objects: { total: number; stored: number; alreadyPresent: number; bytes: number };
  events: { imported: number; alreadyPresent: number };
  /** Signature and attestation bundles: stored, or already here (by the same key). */
  signatures: { imported: number; alreadyPresent: number };
  tags: { restored: string[]; skipped: { name: string; reason: string }[] };
  /** Stages the version held where it was exported (stages are not imported: promote here). */
  stagesAtExport: string[];
}

interface ReceivedObject {
  digest: string;
  size: number;
  chunks: ChunkRef[];
  /** The verified temp file to adopt, or null when the store had the object already. */
  tmpPath: string | null;
}

interface ObjectInProgress {
  digest: string;
  size: number;
  hasher: ChunkHasher;
  tmp: { path: string; fd: number } | null;
  received: number;
}

/**
 * Imports a bundle written by `exportBundle`. Every part is verified before anything becomes
 * visible: the marker against its schema, the manifest's bytes against its id, each event
 * against its content id, each object by re-hashing its bytes (ChunkHasher) into a store temp
 * file. Only then are the objects adopted, the manifest stored and the index rows (version,
 * objects, events, tags) written in one transaction. Not a bundle → UsageError (2); damaged or
 * hostile (links, devices, escaping names, lying digests, missing parts) → IntegrityError (6).
 * Nothing is written outside `.modelctl/`. A version number taken here gets the next free one.
 */
export async function importBundle(opts: ImportOptions): Promise<ImportResult> {
  const file = resolve(opts.cwd ?? process.cwd(), opts.file);
  if (!existsSync(file)) throw new NotFoundError('FILE_NOT_FOUND', `${printable(opts.file)} does not exist`, { hint: 'check the path of the bundle' });
  if (!statSync(file).isFile()) throw new UsageError('NOT_A_BUNDLE', `${printable(opts.file)} is not a file`);
  return withRepository(opts, async (repo) => {
    const state = new ImportState(repo, opts.file);
    try {
      await readBundle(file, state, () => state.marker !== null);
      state.assertComplete();
      barrier('import-verified');
      return await state.commit();
    } finally {
      state.discardTemps();
    }
  });
}

/** The streaming verifier: one instance per import, fed entry by entry by readBundle. */
class ImportState {
  marker: BundleMarker | null = null;
  private manifest: VersionManifest | null = null;
  private manifestBytes: Buffer | null = null;
  private readonly events: AuditEvent[] = [];
  private readonly signatures: SignatureRow[] = [];
  private expected = new Map<string, number>();
  private readonly received = new Map<string, ReceivedObject>();
  private current: ObjectInProgress | null = null;
  private buffers: Buffer[] = [];
  private bufferedBytes = 0;

  constructor(
    private readonly repo: Repository,
    private readonly file: string,
  ) {}

  /** Checks an entry's place and size before any of its bytes are read. */
  accept(entry: BundleReadEntry): void {
    const what = entry.what;
    if (!this.marker) {
      if (what.kind !== 'marker') throw bundleNotRecognised(this.file, `its first entry is '${printable(entry.name)}', not ${BUNDLE_MARKER}`);
      if (entry.size > BUNDLE_LIMITS.markerBytes) throw bundleNotRecognised(this.file, 'its marker is implausibly large');
      return this.startBuffer();
    }
    const m = this.marker;
    switch (what.kind) {
      case 'marker':
        throw this.malformed(`a second ${BUNDLE_MARKER}`);
      case 'version':
        if (this.manifestBytes || this.events.length || this.received.size) throw this.malformed(`'${entry.name}' out of order`);
        if (what.id !== m.version.id) throw this.malformed(`the manifest '${entry.name}' is not the version the marker names (${m.version.id.slice(0, 12)})`);
        if (entry.size > BUNDLE_LIMITS.manifestBytes) throw this.malformed('the manifest is implausibly large');
        return this.startBuffer();
      case 'event':
        if (!this.manifest || this.received.size) throw this.malformed(`'${entry.name}' out of order`);
        if (what.index !== this.events.length + 1 || this.events.length >= m.events) throw this.malformed(`unexpected event entry '${entry.name}'`);
        if (entry.size > BUNDLE_LIMITS.eventBytes) throw this.malformed(`event '${entry.name}' is implausibly large`);
        return this.startBuffer();
      case 'signature':
        if (!this.manifest || this.received.size) throw this.malformed(`'${entry.name}' out of order`);
        this.assertAllEvents();
        if (what.versionId !== m.version.id) throw this.malformed(`'${entry.name}' is a signature of another version`);
        if (this.signatures.length >= this.signaturesAnnounced) throw this.malformed(`unexpected signature entry '${entry.name}'`);
        if (entry.size > MAX_BUNDLE_BYTES) throw this.malformed(`signature '${entry.name}' is implausibly large`);
        return this.startBuffer();
      case 'object': {
        if (!this.manifest) throw this.malformed(`'${entry.name}' before the manifest`);
        this.assertAllEvents();
        if (this.signatures.length !== this.signaturesAnnounced) throw this.malformed(`the bundle holds ${this.signatures.length} of the ${this.signaturesAnnounced} signatures its marker announces`);
        const size = this.expected.get(what.digest);
        if (size === undefined) throw this.malformed(`object ${what.digest.slice(0, 12)} is not a file of the version`);
        if (this.received.has(what.digest)) throw this.malformed(`object ${what.digest.slice(0, 12)} appears twice`);
        if (entry.size !== size) {
          throw new IntegrityError('OBJECT_SIZE_MISMATCH', `object ${what.digest.slice(0, 12)} is ${entry.size} bytes in the bundle, ${size} in the manifest`, { hint: 'the bundle was tampered with or damaged; nothing was imported' });
        }
        // An object the store has is still hashed (every digest is verified) but not copied.
        const tmp = this.repo.store.hasObject(what.digest) ? null : this.repo.store.newTemp();
        this.current = { digest: what.digest, size, hasher: new ChunkHasher(), tmp, received: 0 };
        return;
      }
    }
  }

  data(entry: BundleReadEntry, chunk: Buffer): void {
    if (entry.what.kind === 'object') {
      const o = this.current as ObjectInProgress;
      o.received += chunk.length;
      o.hasher.update(chunk);
      if (o.tmp) {
        let off = 0;
        while (off < chunk.length) off += writeSync(o.tmp.fd, chunk, off, chunk.length - off);
      }
      return;
    }
    this.bufferedBytes += chunk.length;
    this.buffers.push(Buffer.from(chunk)); // tar reuses its buffers
  }

  end(entry: BundleReadEntry): void {
    const what = entry.what;
    if (what.kind === 'object') return this.endObject();
    const bytes = Buffer.concat(this.buffers, this.bufferedBytes);
    this.buffers = [];
    if (what.kind === 'marker') {
      this.marker = this.parseMarker(bytes);
      this.assertSpaceFor(this.marker);
    }
    else if (what.kind === 'version') this.acceptManifest(what.id, bytes);
    else if (what.kind === 'event') this.events.push(this.parseEvent(entry.name, what.id, bytes));
    else if (what.kind === 'signature') this.signatures.push(this.parseSignature(entry.name, what, bytes));
  }

  /** Signature bundles the marker announces (none when it has no count). */
  private get signaturesAnnounced(): number {
    return this.marker?.signatures ?? 0;
  }

  /** The parts after the events (signatures, objects) start only once every announced event arrived. */
  private assertAllEvents(): void {
    const m = this.marker as BundleMarker;
    if (this.events.length !== m.events) throw this.malformed(`the bundle holds ${this.events.length} of the ${m.events} events its marker announces`);
  }

  private startBuffer(): void {
    this.buffers = [];
    this.bufferedBytes = 0;
  }

  private parseMarker(bytes: Buffer): BundleMarker {
    let raw: unknown;
    try {
      raw = parseUntrustedJson(bytes, BUNDLE_MARKER);
    } catch (err) {
      throw bundleNotRecognised(this.file, (err as Error).message);
    }
    const format = (raw as { format?: unknown } | null)?.format;
    if (typeof format === 'number' && format > BUNDLE_FORMAT) {
      throw new UsageError('BUNDLE_TOO_NEW', `the bundle has format ${format}; this modelctl reads format ${BUNDLE_FORMAT}`, { hint: 'upgrade modelctl (npm i -g modelctl)' });
    }
    const parsed = bundleMarkerSchema.safeParse(raw);
    if (!parsed.success || parsed.data.format !== BUNDLE_FORMAT) {
      const issue = parsed.success ? null : parsed.error.issues[0];
      throw bundleNotRecognised(this.file, `its marker is invalid${issue ? ` (${issue.path.join('.')}: ${issue.message})` : ''}`);
    }
    if (!isModelName(parsed.data.version.model)) throw bundleNotRecognised(this.file, 'its marker names an invalid model');
    return parsed.data;
  }

  /** Refuses early (exit 4) when the store's disk cannot hold the objects it lacks. */
  private assertSpaceFor(marker: BundleMarker): void {
    const needed = marker.objects.filter((o) => !this.repo.store.hasObject(o.digest)).reduce((s, o) => s + o.size, 0);
    let free: number;
    try {
      const st = statfsSync(this.repo.store.tmpDir);
      free = st.bavail * st.bsize;
    } catch {
      return; // no statfs here: the write itself reports ENOSPC
    }
    if (needed > free) {
      throw new ModelctlError('NO_SPACE', `the bundle needs ${needed} bytes in ${this.repo.store.objectsDir}; ${free} are free`, {
        exitCode: ExitCode.CONFLICT,
        hint: 'free some space (`modelctl gc` drops unreferenced objects) and import again',
      });
    }
  }

  private acceptManifest(id: string, bytes: Buffer): void {
    const m = this.marker as BundleMarker;
    // Hashes the stored bytes against the id (never re-serialised), then schema and path checks.
    const manifest = parseManifest(bytes, id);
    if (manifest.model !== m.version.model) throw this.malformed(`the manifest is of model '${manifest.model}', the marker says '${m.version.model}'`);
    const fromManifest = new Map<string, number>();
    for (const f of manifest.files) fromManifest.set(f.digest, f.size);
    const fromMarker = new Map(m.objects.map((o) => [o.digest, o.size]));
    const same = fromManifest.size === fromMarker.size && m.objects.length === fromMarker.size && [...fromManifest].every(([d, s]) => fromMarker.get(d) === s);
    if (!same) throw this.malformed('the marker\'s object list disagrees with the manifest\'s files');
    this.manifest = manifest;
    this.manifestBytes = bytes;
    this.expected = fromManifest;
  }

  private parseEvent(name: string, idFromName: string, bytes: Buffer): AuditEvent {
    const raw = parseUntrustedJson(bytes, name);
    const parsed = bundleEventSchema.safeParse(raw);
    if (!parsed.success) throw this.malformed(`event '${name}' is invalid (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message})`);
    const e = parsed.data as AuditEvent;
    const m = this.marker as BundleMarker;
    if (e.id !== idFromName || eventContentId(e) !== e.id) {
      throw new IntegrityError('EVENT_ID_MISMATCH', `event '${name}' does not hash to its id`, { hint: 'the bundle was tampered with or damaged; nothing was imported' });
    }
    if (eventPayload(e) !== bytes.toString('utf8')) throw this.malformed(`event '${name}' is not in canonical form`);
    if (e.version !== m.version.id || e.model !== m.version.model) throw this.malformed(`event '${name}' is about another version`);
    return e;
  }

  /** A signature bundle, kept as from a remote (filedSignatureRow); one filed under another key makes the bundle malformed. */
  private parseSignature(name: string, what: Extract<BundleEntryKind, { kind: 'signature' }>, bytes: Buffer): SignatureRow {
    try {
      return filedSignatureRow(bytes, { versionId: what.versionId, kind: what.signatureKind, hint: what.hint }, name);
    } catch (err) {
      if (err instanceof ModelctlError && err.code === 'MISFILED_SIGNATURE') throw this.malformed(err.message);
      throw err;
    }
  }

  private endObject(): void {
    const o = this.current as ObjectInProgress;
    this.current = null;
    const hashed = o.hasher.finish();
    // Record before judging, so a refused temp file is still found and removed by discardTemps.
    this.received.set(o.digest, { digest: o.digest, size: o.size, chunks: hashed.chunks, tmpPath: o.tmp?.path ?? null });
    if (o.tmp) {
      try {
        fsyncSync(o.tmp.fd);
      } finally {
        closeSync(o.tmp.fd);
      }
    }
    if (hashed.digest !== o.digest || hashed.size !== o.size) {
      throw new IntegrityError('OBJECT_DIGEST_MISMATCH', `object ${o.digest.slice(0, 12)} in the bundle hashes to ${hashed.digest.slice(0, 12)}`, {
        hint: 'the bundle was tampered with or damaged; nothing was imported',
      });
    }
  }

  private malformed(why: string): IntegrityError {
    return new IntegrityError('BUNDLE_MALFORMED', `${printable(this.file)}: ${why}`, { hint: 'the bundle was crafted or damaged; nothing was imported' });
  }

  /** After the last entry: everything the marker announced arrived. */
  assertComplete(): void {
    if (!this.marker) throw bundleNotRecognised(this.file, `it has no ${BUNDLE_MARKER}`);
    const missing = !this.manifest
      ? 'the version manifest'
      : this.events.length !== this.marker.events
        ? `${this.marker.events - this.events.length} event(s)`
        : this.signatures.length !== this.signaturesAnnounced
          ? `${this.signaturesAnnounced - this.signatures.length} signature(s)`
          : this.received.size !== this.expected.size
          ? `${this.expected.size - this.received.size} object(s)`
          : null;
    if (missing) {
      throw new IntegrityError('BUNDLE_INCOMPLETE', `${printable(this.file)} is incomplete: ${missing} missing`, { hint: 'the bundle was truncated; export it again' });
    }
  }

  /** Makes the verified bundle visible: objects, manifest, then one index transaction. */
  async commit(): Promise<ImportResult> {
    const m = this.marker as BundleMarker;
    const manifest = this.manifest as VersionManifest;
    const id = m.version.id;
    // Everything that awaits comes first: a Ctrl-C is acted on here, before any object or the
    // manifest enters the store; from the adoption to the index transaction nothing yields.
    const actor = await resolveActor(this.repo.root);
    await interruptionPoint();
    let stored = 0;
    for (const o of this.received.values()) {
      if (o.tmpPath && this.repo.store.adoptTemp(o.tmpPath, o.digest)) stored++;
      o.tmpPath = null;
    }
    this.repo.store.writeManifest(id, this.manifestBytes as Buffer);
    const stages = this.repo.settings.stages;

    const outcome = writeTransaction(this.repo.db, () => {
      let created = false;
      let renumbered = false;
      for (const o of this.received.values()) recordObject(this.repo.db, o.digest, o.size, o.chunks);
      // A gc that decided before this transaction may be deleting objects this import found
      // already present: refuse (exit 4, nothing recorded) rather than name deleted bytes.
      assertObjectsKept(this.repo.db, manifest.files.map((f) => f.digest), (d) => this.repo.store.objectPath(d));
      if (!getVersion(this.repo.db, id)) {
        const modelId = ensureModel(this.repo.db, manifest.model);
        let number = m.version.number;
        if (getVersionByNumber(this.repo.db, manifest.model, number)) {
          number = nextVersionNumber(this.repo.db, modelId);
          renumbered = true;
        }
        insertVersion(this.repo.db, { id, manifest, number, identity: versionIdentity(manifest) });
        created = true;
      }
      let imported = 0;
      for (const e of this.events) if (appendEvent(this.repo.db, e)) imported++;
      let signed = 0;
      for (const g of this.signatures) if (insertSignature(this.repo.db, g)) signed++;
      const restored: string[] = [];
      const skipped: { name: string; reason: string }[] = [];
      const modelId = ensureModel(this.repo.db, manifest.model);
      for (const t of m.version.tags) {
        try {
          assertTagName(t.name, stages);
        } catch (err) {
          skipped.push({ name: t.name, reason: (err as ModelctlError).message });
          continue;
        }
        const existing = getTag(this.repo.db, modelId, t.name);
        if (existing?.versionId === id) continue;
        if (existing) {
          const holder = getVersion(this.repo.db, existing.versionId);
          skipped.push({ name: t.name, reason: `already names ${holder ? `${holder.model}@v${holder.number}` : existing.versionId.slice(0, 12)} here` });
          continue;
        }
        setTag(this.repo.db, { modelId, model: manifest.model, name: t.name, versionId: id, message: t.message, actor, force: false });
        restored.push(t.name);
      }
      return { created, renumbered, imported, signed, restored, skipped };
    });

    ensureTensorSummaries(this.repo, id, manifest.files);
    const row = getVersion(this.repo.db, id);
    if (!row) throw new Error('BUG: imported version not found');
    const objects = [...this.received.values()];
    return {
      created: outcome.created,
      version: summarizeVersion(this.repo.db, row),
      sourceNumber: m.version.number,
      renumbered: outcome.renumbered,
      objects: { total: objects.length, stored, alreadyPresent: objects.length - stored, bytes: objects.reduce((s, o) => s + o.size, 0) },
      events: { imported: outcome.imported, alreadyPresent: this.events.length - outcome.imported },
      signatures: { imported: outcome.signed, alreadyPresent: this.signatures.length - outcome.signed },
      tags: { restored: outcome.restored, skipped: outcome.skipped },
      stagesAtExport: m.version.stages,
    };
  }

  /** Removes every temp file not adopted (failure paths; a no-op after a commit). */
  discardTemps(): void {
    if (this.current?.tmp) discardTempFile(this.current.tmp.path, this.current.tmp.fd);
    this.current = null;
    for (const o of this.received.values()) {
      if (o.tmpPath) discardTempFile(o.tmpPath);
      o.tmpPath = null;
    }
  }
}
