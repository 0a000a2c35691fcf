/**
 * Pushing versions to an OCI registry (docs/design.md §13), in the write order of §6 mapped
 * onto a registry: file blobs (skipped when the registry has them, cross-mounted from a
 * sibling repository, else uploaded in resumable chunks) → the ModelPack config and the
 * version-manifest blob → the manifest under `v<N>` (the number claim) → `latest` → tags and
 * stages → the event log. A reader never sees a tag naming something absent: a registry
 * refuses a manifest whose blobs it lacks.
 */
import { createHash } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';
import { IntegrityError, UsageError } from '../../errors.js';
import { parseManifest, type VersionManifest } from '../../core/manifest.js';
import { buildVersionArtifact, ociDigest, type VersionArtifact } from '../../core/modelpack.js';
import { modelPackConfigErrors } from '../../core/modelpack-schema.js';
import { MAX_MANIFEST_BYTES, classifyOciTag, numberTag, parseOciManifest, versionIdOf } from '../../core/oci-artifact.js';
import { formatOciUrl } from '../../remote/oci/oci-url.js';
import { DEFAULT_CHUNK_BYTES, uploadBytesBlob, uploadFileBlob, type UploadState } from '../../remote/oci/blob-upload.js';
import type { RegistryRepository } from '../../remote/oci/registry-repository.js';
import { writeTransaction } from '../../store/index-db.js';
import { barrier } from '../../store/test-barrier.js';
import { forgetRemote, getRemoteRef, knownRemoteChunks, rememberRemoteChunks, rememberRemoteVersion, remoteVersionNumber, setRemoteRef } from '../../store/remote-tracking.js';
import { markEventsOnRemote, unpushedEvents } from '../../store/unpushed-events.js';
import { getVersion, versionFiles, type VersionRow } from '../../store/version-records.js';
import { knownWholeFileSha256, recordWholeFileSha256, wholeFileSha256Async } from '../../store/whole-file-sha256.js';
import { resolveActor } from '../../workspace/identity.js';
import type { Repository } from '../../workspace/repository.js';
import type { PushedVersion } from '../claim-numbers.js';
import { publishable } from '../publish-events.js';
import { concludePush, selectPushVersions, type PushRequest, type PushResult, type SkippedVersion, type VersionUpload } from '../push.js';
import { takeRemoteNumber, type Renumbered } from '../renumber.js';
import { jobsOrDefault } from '../transfer-progress.js';
import type { ChunkUpload } from '../upload-chunks.js';
import { appendEvents } from './oci-events.js';
import { pushStagesToRegistry, pushTagsToRegistry } from './oci-refs.js';
import type { OciSession } from './oci-session.js';
import { signaturesLeftBehind } from './oci-signatures.js';
import { assertNoOciTagCollision } from './oci-tag-collisions.js';

/** Files at least this big with no known sha256 are hashed while they upload rather than before (no HEAD skip then). */
const HASH_WHILE_UPLOADING_BYTES = 64 * 1024 * 1024;

/** The upload chunk size; MODELCTL_OCI_CHUNK_BYTES overrides it (tests interrupt small pushes). */
function chunkBytes(env: NodeJS.ProcessEnv): number {
  const n = Number(env.MODELCTL_OCI_CHUNK_BYTES);
  return Number.isSafeInteger(n) && n >= 1024 * 1024 ? n : DEFAULT_CHUNK_BYTES;
}

/** Index keys (per remote) of what a push to a registry remembers. */
export const ociKeys = {
  /** A blob known present in a repository. */
  blob: (repository: string, digest: string) => `${repository}@${digest}`,
  /**
   * The last repository of this registry a blob was seen in (a source for cross-mounts),
   * kept under the registry's own id (blobHomeScope), so a push under another prefix of the
   * same registry mounts too.
   */
  blobHome: (sha256: string) => `.oci-blob/${sha256}`,
  /** An unfinished upload of a file to a repository. */
  upload: (repository: string, fileDigest: string) => `.oci-upload/${repository}/${fileDigest}`,
};

/** The index namespace of blob homes: the registry, whatever the remote's prefix. */
function blobHomeScope(session: OciSession): string {
  return formatOciUrl({ ...session.spec, repository: '' });
}

interface PlannedVersion {
  row: VersionRow;
  manifest: VersionManifest;
  bytes: Buffer;
  repo: RegistryRepository;
}

/**
 * A registry emptied, or made anew under the same name, has no format marker to tell it by
 * (docs/design.md §13): the newest version this index remembers pushed, per model, must still
 * have its number tag there. If it has not, the memory is of something gone and is
 * forgotten, so the push uploads again instead of counting it "already there". One HEAD per
 * model; versions are never removed from a registry by modelctl, so a missing tag is loss.
 */
async function forgetIfRegistryLost(repo: Repository, session: OciSession, versions: readonly VersionRow[]): Promise<void> {
  const newest = new Map<string, number>();
  for (const v of versions) {
    const n = remoteVersionNumber(repo.db, session.remoteId, v.id);
    if (typeof n === 'number' && n > (newest.get(v.model) ?? 0)) newest.set(v.model, n);
  }
  for (const [model, n] of newest) {
    if ((await session.repository(model).headManifest(numberTag(n), true)) === null) {
      writeTransaction(repo.db, () => forgetRemote(repo.db, session.remoteId));
      return;
    }
  }
}

/**
 * Push phases for versions (docs/design.md §13): blobs, then the artifact of each version
 * under its number tag. A version whose bytes are not local is skipped and named, or, when
 * asked for by reference, IntegrityError (6) before anything is sent.
 */
export async function uploadVersionsToRegistry(repo: Repository, session: OciSession, versions: readonly VersionRow[], named: ReadonlySet<string>, req: PushRequest, limit: LimitFunction): Promise<VersionUpload> {
  const { db, store } = repo;
  const planned: PlannedVersion[] = [];
  const missing: VersionRow[] = [];
  const known: PushedVersion[] = [];
  await forgetIfRegistryLost(repo, session, versions);
  for (const v of versions) {
    const n = remoteVersionNumber(db, session.remoteId, v.id);
    if (n !== undefined && n !== null) {
      known.push({ ref: `${v.model}@v${n}`, id: v.id, number: n, status: 'already-there' });
      continue;
    }
    if (!versionFiles(db, v.id).every((f) => f.size === 0 || store.hasObject(f.digest))) {
      missing.push(v);
      continue;
    }
    const bytes = store.readManifestBytes(v.id);
    if (!bytes) throw new IntegrityError('MANIFEST_MISSING', `the manifest of ${v.model}@v${v.number} is missing locally`, { hint: 'run `modelctl verify`' });
    planned.push({ row: v, manifest: parseManifest(bytes, v.id), bytes, repo: session.repository(v.model) });
  }
  const skipped: SkippedVersion[] = missing.map((v) => ({ ref: `${v.model}@v${v.number}`, id: v.id, hint: `\`modelctl pull ${v.model}@v${v.number}\` from the remote that has it, then push again` }));
  const wanted = missing.find((v) => named.has(v.id));
  if (wanted) {
    throw new IntegrityError('VERSION_BYTES_MISSING', `the bytes of ${wanted.model}@v${wanted.number} are not in this repository's store, so it cannot be pushed to ${session.displayUrl}`, {
      hint: `run \`modelctl pull ${wanted.model}@v${wanted.number}\` (from the remote it came from) first`,
      data: { version: wanted.id },
    });
  }
  const chunks = await uploadFileBlobs(repo, session, planned, req, limit);
  const ctx = { actor: await resolveActor(repo.root), argv: req.argv ?? [], remote: session.displayUrl };
  const pushed: PushedVersion[] = [...known];
  const renumbered: Renumbered[] = [];
  const tagLists = new Map<string, Set<string>>();
  const claimedMax = new Map<string, { n: number; bytes: Buffer }>();
  req.onProgress?.({ phase: 'metadata', bytesDone: chunks.bytesUploaded, bytesTotal: chunks.bytesUploaded, itemsDone: chunks.uploaded, itemsTotal: chunks.uploaded });
  for (const p of planned) {
    const art = await artifactOf(repo, p);
    await uploadSmallBlob(repo, session, p.repo, art.configBytes, art.manifest.config.digest);
    await uploadSmallBlob(repo, session, p.repo, p.bytes, art.versionLayer.digest);
    if (art.manifestBytes.length > MAX_MANIFEST_BYTES) {
      throw new UsageError('OCI_MANIFEST_TOO_LARGE', `${p.row.model}@v${p.row.number} has ${p.manifest.files.length} files: its OCI manifest would be ${art.manifestBytes.length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit of registries`, {
        hint: 'pack many small files into an archive before committing, or push this version to an s3:// or folder remote',
      });
    }
    let tags = tagLists.get(p.repo.name);
    if (!tags) tagLists.set(p.repo.name, (tags = new Set(await p.repo.listTags())));
    const row = getVersion(db, p.row.id)!; // an earlier claim may have bumped it
    const { n, mine } = await claimNumberTag(p.repo, tags, row, art.manifestBytes);
    writeTransaction(db, () => {
      if (n !== row.number) renumbered.push(...takeRemoteNumber(db, row.model, row.id, n, ctx));
      rememberRemoteVersion(db, session.remoteId, row.id, n);
    });
    tags.add(numberTag(n));
    pushed.push({ ref: `${row.model}@v${n}`, id: row.id, number: n, status: mine ? 'uploaded' : 'already-there' });
    const best = claimedMax.get(p.repo.name);
    if (!best || n > best.n) claimedMax.set(p.repo.name, { n, bytes: art.manifestBytes });
  }
  // `latest` follows the highest number, when that is one this push claimed.
  for (const [name, best] of claimedMax) {
    const top = Math.max(0, ...[...tagLists.get(name)!].map(classifyOciTag).map((t) => (t.kind === 'number' ? t.n : 0)));
    if (best.n >= top) await planned.find((p) => p.repo.name === name)!.repo.putManifest('latest', best.bytes);
  }
  return { versions: pushed, skipped, chunks, renumbered };
}

/**
 * Puts the artifact under `v<n>` from the version's local number up: a free number is
 * taken (PUT, then read back: a registry has no create-only write, so a concurrent claim
 * shows up there and the next number is tried), one that already holds this version is
 * kept (an earlier, interrupted push).
 */
async function claimNumberTag(r: RegistryRepository, tags: Set<string>, v: VersionRow, manifestBytes: Buffer): Promise<{ n: number; mine: boolean }> {
  const digest = ociDigest(sha256(manifestBytes));
  for (let n = v.number; ; n++) {
    const tag = numberTag(n);
    if (tags.has(tag)) {
      const got = await r.getManifest(tag, true);
      if (got) {
        let id: string | null = null;
        try {
          id = versionIdOf(parseOciManifest(got.bytes, `${r.name}:${tag}`));
        } catch {
          id = null; // not ours to judge: some other artifact holds that number
        }
        if (id === v.id) return { n, mine: false };
        continue;
      }
    }
    await r.putManifest(tag, manifestBytes);
    if ((await r.headManifest(tag, true)) === digest) return { n, mine: true };
    tags.add(tag); // someone else's claim landed on top of ours: theirs stands
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The artifact of a planned version (every file's sha256 is known by now). */
async function artifactOf(repo: Repository, p: PlannedVersion): Promise<VersionArtifact> {
  const sha = await wholeFileSha256Async(repo.db, repo.store, p.manifest.files.filter((f) => f.size > 0));
  const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  for (const f of p.manifest.files) if (f.size === 0) sha.set(f.digest, EMPTY);
  const art = buildVersionArtifact(p.manifest, p.row.id, p.bytes, sha);
  const errors = await modelPackConfigErrors(JSON.parse(art.configBytes.toString('utf8')));
  if (errors.length) throw new Error(`BUG: the ModelPack config of ${p.row.model}@v${p.row.number} does not validate: ${errors.join('; ')}`);
  return art;
}

async function uploadSmallBlob(repo: Repository, session: OciSession, r: RegistryRepository, bytes: Buffer, digest: string): Promise<void> {
  const mark = ociKeys.blob(r.name, digest);
  if (knownRemoteChunks(repo.db, session.remoteId, [mark]).size) return;
  if ((await r.headBlob(digest, true)) === null) await uploadBytesBlob(r, bytes, digest.slice('sha256:'.length));
  writeTransaction(repo.db, () => rememberRemoteChunks(repo.db, session.remoteId, [mark]));
}

interface FileJob {
  repo: RegistryRepository;
  digest: string;
  size: number;
  path: string;
}

/**
 * Makes every file of the planned versions a blob of its model's repository: known there
 * (the index), found there (HEAD), mounted from a sibling repository, or uploaded in
 * resumable chunks, up to --jobs at once. Files with no known sha256 are hashed first, or,
 * when big, while they upload.
 */
async function uploadFileBlobs(repo: Repository, session: OciSession, planned: readonly PlannedVersion[], req: PushRequest, limit: LimitFunction): Promise<ChunkUpload> {
  const { db, store } = repo;
  const jobs = new Map<string, FileJob>();
  for (const p of planned) {
    for (const f of p.manifest.files) {
      const k = `${p.repo.name}\0${f.digest}`;
      if (!jobs.has(k)) jobs.set(k, { repo: p.repo, digest: f.digest, size: f.size, path: f.size === 0 ? '' : store.objectPath(f.digest) });
    }
  }
  const all = [...jobs.values()];
  const sha = knownWholeFileSha256(db, all.map((j) => j.digest));
  const small = all.filter((j) => j.size > 0 && !sha.has(j.digest) && j.size < HASH_WHILE_UPLOADING_BYTES);
  if (small.length) {
    req.onProgress?.({ phase: 'checking', bytesDone: 0, bytesTotal: 0, itemsDone: 0, itemsTotal: small.length });
    for (const [d, s] of await wholeFileSha256Async(db, store, small.map((j) => ({ path: j.path, digest: j.digest, size: j.size })))) sha.set(d, s);
  }
  const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const out: ChunkUpload = { uploaded: 0, alreadyThere: 0, knownFromIndex: 0, bytesUploaded: 0 };
  const toSend: FileJob[] = [];
  await Promise.all(
    all.map((j) =>
      limit(async () => {
        const s = j.size === 0 ? EMPTY : sha.get(j.digest);
        if (s === undefined) {
          toSend.push(j);
          return;
        }
        const digest = ociDigest(s);
        const mark = ociKeys.blob(j.repo.name, digest);
        if (knownRemoteChunks(db, session.remoteId, [mark]).size) {
          out.knownFromIndex++;
          return;
        }
        let present = (await j.repo.headBlob(digest, true)) !== null;
        if (!present) {
          const home = getRemoteRef(db, blobHomeScope(session), ociKeys.blobHome(s))?.value as { repository?: unknown } | null;
          if (typeof home?.repository === 'string' && home.repository !== j.repo.name) present = await j.repo.mountBlob(digest, home.repository);
        }
        if (present) {
          out.alreadyThere++;
          writeTransaction(db, () => {
            rememberRemoteChunks(db, session.remoteId, [mark]);
            setRemoteRef(db, blobHomeScope(session), ociKeys.blobHome(s), { etag: null, value: { repository: j.repo.name } });
          });
          return;
        }
        toSend.push(j);
      }),
    ),
  );
  const bytesTotal = toSend.reduce((n, j) => n + j.size, 0);
  let bytesDone = 0;
  let itemsDone = 0;
  const chunk = chunkBytes(repo.env);
  const progress = () => req.onProgress?.({ phase: 'uploading', bytesDone, bytesTotal, itemsDone, itemsTotal: toSend.length });
  progress();
  await Promise.all(
    toSend.map((j) =>
      limit(async () => {
        const stateKey = ociKeys.upload(j.repo.name, j.digest);
        let sent = 0; // bytes of this file the callback counted
        if (j.size === 0) {
          await uploadBytesBlob(j.repo, Buffer.alloc(0), EMPTY);
        } else {
          const saved = getRemoteRef(db, session.remoteId, stateKey)?.value as UploadState | null | undefined;
          const known = sha.get(j.digest) ?? null;
          const result = await uploadFileBlob(j.repo, { path: j.path, size: j.size, sha256: known }, {
            chunkBytes: chunk,
            resume: saved && typeof saved.location === 'string' && typeof saved.offset === 'number' ? saved : null,
            saveState: (s) => {
              writeTransaction(db, () => setRemoteRef(db, session.remoteId, stateKey, { etag: null, value: s }));
              if (s) barrier('oci-upload-chunk'); // the interrupt tests stop here, a chunk confirmed and saved
            },
            onBytes: (n) => {
              bytesDone += n - sent;
              sent = n;
              progress();
            },
          });
          bytesDone += j.size - sent; // the file counts whole: a resumed prefix was not sent again
          sent = 0;
          out.bytesUploaded += result.bytesSent;
          if (!known) recordWholeFileSha256(db, new Map([[j.digest, result.sha256]]));
          sha.set(j.digest, result.sha256);
        }
        const s = sha.get(j.digest) ?? EMPTY;
        writeTransaction(db, () => {
          rememberRemoteChunks(db, session.remoteId, [ociKeys.blob(j.repo.name, ociDigest(s))]);
          setRemoteRef(db, blobHomeScope(session), ociKeys.blobHome(s), { etag: null, value: { repository: j.repo.name } });
        });
        out.uploaded++;
        itemsDone++;
        progress();
      }),
    ),
  );
  return out;
}

/**
 * Everything a push does on a registry: versions, then tags and stages, then events
 * (docs/design.md §13); nothing at all when two refs of a pushed model share an OCI tag (exit 2).
 */
export async function pushToRegistry(repo: Repository, session: OciSession, req: PushRequest): Promise<PushResult> {
  const limit = pLimit(jobsOrDefault(req.jobs));
  const warnings: string[] = [];
  const { versions, models, named } = selectPushVersions(repo, req.refs ?? []);
  for (const model of [...models].sort()) assertNoOciTagCollision(repo, model, session.displayUrl);
  const uploaded = await uploadVersionsToRegistry(repo, session, versions, named, req, limit);
  for (const s of uploaded.skipped) warnings.push(`skipped ${s.ref}: its bytes are not in this repository; ${s.hint}`);
  const leftBehind = signaturesLeftBehind(repo.db, versions.map((v) => v.id), session.displayUrl);
  if (leftBehind) warnings.push(leftBehind);
  const held = new Set<string>();
  const actor = await resolveActor(repo.root);
  const tags = await pushTagsToRegistry(repo, session, models, held, warnings);
  const stages = await pushStagesToRegistry(repo, session, models, actor, held);
  if (tags.some((t) => t.status !== 'in-sync') || stages.some((s) => s.status !== 'in-sync')) warnings.push(session.concurrencyCaveat!);
  const events = publishable(repo.db, session, unpushedEvents(repo.db, session.remoteId, models).filter((u) => !held.has(u.event.id)));
  const byModel = new Map<string, typeof events>();
  for (const u of events) byModel.set(u.event.model as string, [...(byModel.get(u.event.model as string) ?? []), u]);
  for (const [model, list] of byModel) {
    await appendEvents(session.repository(model), model, list);
    writeTransaction(repo.db, () => markEventsOnRemote(repo.db, session.remoteId, list.map((u) => u.event.id)));
  }
  return concludePush(repo, session, models, { uploaded, tags, stages, events: events.length, signatures: { published: 0, alreadyThere: 0 }, warnings }, 'registry');
}
