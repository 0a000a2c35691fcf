/**
 * Fetching from an OCI registry (docs/design.md §13): a model's repository is read into the
 * same two things a fetch of the object-store layout reads (sync/fetch-read.ts) — a listing
 * and the checked documents — and applied by the same fetch-apply.ts, so renumbering, stage
 * histories and the remote-wins rules are one code path for every kind of remote.
 *
 * Mapping back: `v<N>` tags are numbers (their artifacts' version layers are the manifests,
 * checked against their ids and against the artifact's layers); other tags are stages when a
 * stage of that name is configured or moved in the event log, else modelctl tags, named as
 * the registry's event log (or this repository's last fetch or push) says they were pushed
 * (`+` became `_`); the event log gives who moved them, when, and from what. Artifacts
 * without modelctl's version layer are not versions yet: `pull` imports them by tag.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { sha256Hex, parseManifest, type VersionManifest } from '../../core/manifest.js';
import type { AuditEvent } from '../../core/events.js';
import { assertTagName, isModelName } from '../../core/names.js';
import { classifyOciTag, ociTagOf, pairFileLayers, parseOciManifest, versionIdOf } from '../../core/oci-artifact.js';
import { keys, parseModelKey, type StageDoc, type TagDoc } from '../../core/remote-layout.js';
import { modelOfRepository } from '../../remote/oci/oci-url.js';
import type { ObjectInfo } from '../../remote/remote.js';
import { listCatalog, type RegistryRepository } from '../../remote/oci/registry-repository.js';
import { hasEvent } from '../../store/events-table.js';
import { listEvents } from '../../store/history-queries.js';
import { writeTransaction } from '../../store/index-db.js';
import { getRemoteRef, remoteNumbersOf, seenRemoteRefKeys } from '../../store/remote-tracking.js';
import { getVersion } from '../../store/version-records.js';
import { resolveActor } from '../../workspace/identity.js';
import type { Repository } from '../../workspace/repository.js';
import { applyModel } from '../fetch-apply.js';
import type { FetchedRef, ModelListing, ModelRead } from '../fetch-read.js';
import type { FetchResult, ModelFetch } from '../fetch.js';
import type { FetchRequest } from '../protocol.js';
import { describeDifference, stageDifferences } from '../ref-differences.js';
import { Rejections } from '../rejected-documents.js';
import { jobsOrDefault } from '../transfer-progress.js';
import { readEventLog, readEvents } from './oci-events.js';
import type { OciSession } from './oci-session.js';

/** Version manifests larger than this are refused from a registry (as from any remote). */
const MAX_VERSION_BYTES = 256 * 1024 * 1024;

/** Brings a registry's versions, tags, stages and events (of one model, or all it lists) into the index. */
export async function fetchFromRegistry(repo: Repository, session: OciSession, req: FetchRequest): Promise<FetchResult> {
  const limit = pLimit(jobsOrDefault(req.jobs));
  const rejections = new Rejections();
  const warnings: string[] = [];
  const models: ModelFetch[] = [];
  const ctx = { actor: await resolveActor(repo.root), argv: req.argv ?? [], remote: session.displayUrl };
  const names = req.model ? [req.model] : await registryModels(session, warnings);
  for (const model of names.sort()) {
    const r = session.repository(model);
    const tags = await r.listTags();
    if (tags.length === 0) continue;
    const got = await readRegistryModel(repo, session, r, model, tags, limit, rejections);
    if (got.foreign.length) warnings.push(`${r.name} holds ${got.foreign.length} artifact(s) modelctl did not make (${got.foreign.slice(0, 5).join(', ')}${got.foreign.length > 5 ? ', …' : ''}): pull one by its tag, e.g. \`modelctl pull ${model}@${got.foreign[0]} --remote ${session.displayUrl}\``);
    if (got.read.numbered.length === 0 && got.read.events.length === 0 && got.read.tags.length === 0 && got.read.stages.length === 0 && got.read.heldEvents.length === 0) continue;
    models.push(writeTransaction(repo.db, () => applyModel(repo.db, session.remoteId, model, got.listing, got.read, ctx, warnings)));
  }
  const differingStages = stageDifferences(repo.db, session.remoteId, models.map((m) => m.model));
  for (const d of differingStages) warnings.push(describeDifference(repo.db, d, session.displayUrl));
  return { remote: session.displayUrl, models, rejected: rejections.list, differingStages, warnings, signatures: 0 };
}

/** The models under the URL's prefix, from the registry's catalog; without one, the URL's own repository only. */
export async function registryModels(session: OciSession, warnings: string[]): Promise<string[]> {
  const catalog = await listCatalog(session.client);
  const own = modelOfRepository(session.spec, session.spec.repository, isModelName);
  if (catalog === null) {
    warnings.push(`${session.spec.registry} does not list its repositories to modelctl: only ${own ? `model '${own}'` : 'named models'} fetched; name a model to fetch another (\`modelctl fetch <model>\`)`);
    return own ? [own] : [];
  }
  const models = new Set<string>();
  for (const name of catalog) {
    const m = modelOfRepository(session.spec, name, isModelName);
    if (m) models.add(m);
  }
  return [...models];
}

/** What one repository yielded: the listing and documents fetch-apply takes, and the tags of foreign artifacts. */
interface RegistryModelRead {
  listing: ModelListing;
  read: ModelRead;
  foreign: string[];
}

/**
 * Reads one model's repository: the event log (new events checked and kept), the number
 * tags this index does not know (each artifact's version layer checked against its id, its
 * model, and its file layers), and the other tags whose digest changed since last seen.
 */
export async function readRegistryModel(repo: Repository, session: OciSession, r: RegistryRepository, model: string, tags: readonly string[], limit: LimitFunction, rejections: Rejections): Promise<RegistryModelRead> {
  const { db } = repo;
  const log = await readEventLog(r, rejections);
  const heldEvents = log.entries.filter((e) => hasEvent(db, e.id)).map((e) => e.id);
  const fresh = await readEvents(r, model, log.entries.filter((e) => !hasEvent(db, e.id)), rejections, limit);
  fresh.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
  const known = [...listEvents(db, { model }), ...fresh];
  // The registry's own log, in its order: only what was pushed names an OCI tag's tag (a
  // local, unpushed tag of a colliding name must not claim it).
  const byId = new Map(known.map((e) => [e.id, e]));
  const logged = log.entries.flatMap((l) => byId.get(l.id) ?? []);

  // Numbers, ascending; each version once (its lowest number), every artifact checked.
  const versionOfDigest = new Map<string, string | null>();
  const foreign: string[] = [];
  const knownNumbers = remoteNumbersOf(db, session.remoteId, model);
  const numberTags = tags
    .map((t) => ({ t, c: classifyOciTag(t) }))
    .flatMap(({ t, c }) => (c.kind === 'number' && !knownNumbers.has(c.n) ? [{ t, n: c.n }] : []))
    .sort((a, b) => a.n - b.n);
  const manifests = new Map<string, VersionManifest>();
  const read = await Promise.all(numberTags.map(({ t, n }) => limit(async () => ({ n, t, got: await readVersionAt(repo, r, model, t, rejections, versionOfDigest, manifests) }))));
  const numbered: { n: number; id: string }[] = [];
  const seen = new Set<string>();
  for (const { n, t, got } of read) {
    if (got === 'foreign') foreign.push(t);
    else if (got && !seen.has(got)) {
      seen.add(got);
      numbered.push({ n, id: got });
    }
  }

  // Names: stages and tags.
  const stageNames = new Set([...repo.settings.stages, ...known.flatMap((e) => ((e.action === 'promote' || e.action === 'rollback') && typeof e.data.stage === 'string' ? [e.data.stage] : []))]);
  const listing: ModelListing = new Map([['tags', [] as ObjectInfo[]], ['stages', [] as ObjectInfo[]]]);
  const tagRefs: FetchedRef<TagDoc>[] = [];
  const stageRefs: FetchedRef<StageDoc>[] = [];
  const at = new Date().toISOString();
  const names = tags.flatMap((t) => {
    const c = classifyOciTag(t);
    return c.kind === 'name' ? [c.name] : [];
  });
  const tracked = seenRemoteRefKeys(db, session.remoteId, keys.tagsPrefix(model)).flatMap((key) => {
    const name = parseModelKey(key)?.name;
    return name ? [{ key, name }] : [];
  });
  await Promise.all(
    names.map((ociTag) =>
      limit(async () => {
        const isStage = stageNames.has(ociTag);
        const name = isStage ? ociTag : modelctlTagName(ociTag, logged, tracked.map((t) => t.name), [...stageNames]);
        if (name === null) return;
        const digest = await r.headManifest(ociTag);
        if (!digest) return;
        let version = versionOfDigest.get(digest);
        if (version === undefined) {
          const got = await r.getManifest(digest);
          const m = got && rejections.parse(`${r.name}:${ociTag}`, () => parseOciManifest(got.bytes, `${r.name}:${ociTag}`));
          version = m ? versionIdOf(m) : null;
          versionOfDigest.set(digest, version);
        }
        if (!version) return; // a foreign artifact under a name: pull imports it by that tag
        const key = isStage ? keys.stage(model, name) : keys.tag(model, name);
        if (!isStage && tagDeletedInLog(known, name, version)) return;
        listing.get(isStage ? 'stages' : 'tags')!.push({ key, size: 0, etag: digest });
        if (getRemoteRef(db, session.remoteId, key)?.etag === digest) return;
        if (isStage) stageRefs.push({ key, name, etag: digest, doc: stageDocFrom(known, name, version, at) });
        else tagRefs.push({ key, name, etag: digest, doc: tagDocFrom(known, name, version, at) });
      }),
    ),
  );
  // A tag seen under an OCI tag that is still there was not deleted, whatever name the OCI
  // tag maps back to now (two names pushed there before collisions were refused): left as seen.
  const listedTags = listing.get('tags')!;
  const present = new Set(names);
  for (const t of tracked) {
    if (listedTags.some((o) => o.key === t.key) || !present.has(ociTagOf(t.name))) continue;
    if (tagDeletedInLog(known, t.name)) continue;
    listedTags.push({ key: t.key, size: 0, etag: getRemoteRef(db, session.remoteId, t.key)?.etag ?? '' });
  }
  return { listing, read: { numbered, manifests, tags: tagRefs, stages: stageRefs, events: fresh, heldEvents }, foreign };
}

/**
 * Reads the artifact under a number tag: the version id its version layer names (checked:
 * the blob hashes to it, it parses as that version of this model, and its files match the
 * artifact's layers), `foreign` when the artifact has no version layer, null when rejected.
 */
async function readVersionAt(repo: Repository, r: RegistryRepository, model: string, tag: string, rejections: Rejections, versionOfDigest: Map<string, string | null>, manifests: Map<string, VersionManifest>): Promise<string | 'foreign' | null> {
  const what = `${r.name}:${tag}`;
  const got = await r.getManifest(tag);
  if (!got) return null;
  const oci = rejections.parse(what, () => parseOciManifest(got.bytes, what));
  if (!oci) return null;
  const id = rejections.parse(what, () => versionIdOf(oci));
  if (id === null) {
    versionOfDigest.set(got.digest, null);
    return 'foreign';
  }
  if (id === undefined) return null;
  if (getVersion(repo.db, id) || manifests.has(id)) {
    versionOfDigest.set(got.digest, id);
    return id;
  }
  const layer = oci.layers.find((l) => l.digest === `sha256:${id}`)!;
  if (layer.size > MAX_VERSION_BYTES) {
    rejections.reject(what, 'MANIFEST_TOO_LARGE', `${what} carries a version manifest of ${layer.size} bytes`);
    return null;
  }
  const blob = await r.getBlob(layer.digest);
  if (!blob || blob.from !== 0) {
    rejections.reject(what, 'REMOTE_MANIFEST_MISSING', `${what} names version ${id.slice(0, 12)}, whose blob is missing`);
    return null;
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of blob.res.stream as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > layer.size) break;
    parts.push(c);
  }
  const bytes = Buffer.concat(parts);
  if (size > layer.size || sha256Hex(bytes) !== id) {
    blob.res.stream?.destroy();
    rejections.reject(what, 'MANIFEST_ID_MISMATCH', `the version manifest in ${what} does not hash to its id ${id.slice(0, 12)}`);
    return null;
  }
  const m = rejections.parse(what, () => parseManifest(bytes, id));
  if (!m) return null;
  if (m.model !== model) {
    rejections.reject(what, 'REMOTE_MODEL_MISMATCH', `${what} carries a version of model '${m.model}', not '${model}'`);
    return null;
  }
  if (!rejections.parse(what, () => pairFileLayers(m, oci, what))) return null;
  repo.store.writeManifest(id, bytes);
  manifests.set(id, m);
  versionOfDigest.set(got.digest, id);
  return id;
}

/**
 * The modelctl tag an OCI tag holds (OCI tags have no `+`): the name the registry's event log
 * last gave it, else the name this repository last saw there, else the OCI tag itself; null
 * when not a valid tag name.
 */
function modelctlTagName(ociTag: string, logged: readonly AuditEvent[], tracked: readonly string[], stages: readonly string[]): string | null {
  const named = [...logged].reverse().find((e) => typeof e.data.tag === 'string' && ociTagOf(e.data.tag) === ociTag)?.data.tag as string | undefined;
  const name = named ?? tracked.find((t) => ociTagOf(t) === ociTag) ?? ociTag;
  try {
    assertTagName(name, stages);
    return name;
  } catch {
    return null;
  }
}

/** True when the log's last word on tag `name` is its deletion (from `version`, when given; a registry that cannot remove tags keeps it). */
function tagDeletedInLog(events: readonly AuditEvent[], name: string, version?: string): boolean {
  const last = [...events].reverse().find((e) => (e.action === 'tag' || e.action === 'tag-move' || e.action === 'tag-delete') && e.data.tag === name);
  return last?.action === 'tag-delete' && (version === undefined || last.from === version || last.version === version);
}

function tagDocFrom(events: readonly AuditEvent[], name: string, version: string, at: string): TagDoc {
  const e = [...events].reverse().find((x) => (x.action === 'tag' || x.action === 'tag-move') && x.data.tag === name && x.to === version);
  return e ? { version, message: e.reason, actor: e.actor, at: e.at, event: e.id } : { version, message: null, actor: 'unknown (tagged in the registry)', at, event: null };
}

function stageDocFrom(events: readonly AuditEvent[], stage: string, version: string, at: string): StageDoc {
  const e = [...events].reverse().find((x) => (x.action === 'promote' || x.action === 'rollback') && x.data.stage === stage && x.to === version);
  return e ? { version, previous: e.from, event: e.id, actor: e.actor, at: e.at } : { version, previous: null, event: null, actor: 'unknown (tagged in the registry)', at };
}
