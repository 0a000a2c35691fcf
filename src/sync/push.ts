import pLimit, { type LimitFunction } from 'p-limit';
import { IntegrityError } from '../errors.js';
import { parseRef } from '../core/refs.js';
import { requireModel } from '../store/resolve-ref.js';
import { unpushedEvents } from '../store/unpushed-events.js';
import { listModelNames, listVersions, type VersionRow } from '../store/version-records.js';
import { resolveActor } from '../workspace/identity.js';
import type { Repository } from '../workspace/repository.js';
import { claimNumbers, type PushedVersion } from './claim-numbers.js';
import { publishEvents, publishable } from './publish-events.js';
import { pushStages, pushTags, throwOnRefConflicts, type PushedStage, type PushedTag } from './push-refs.js';
import { remoteFlagFor, type StoreSession } from './remote-session.js';
import { describeDifference, stageDifferences, type RefDifference } from './ref-differences.js';
import type { Renumbered } from './renumber.js';
import { jobsOrDefault, type ProgressListener } from './transfer-progress.js';
import { publishSignatures } from './signature-sync.js';
import { uploadChunks, type ChunkUpload } from './upload-chunks.js';
import { uploadFileLists, uploadManifests } from './upload-metadata.js';
import { planUpload } from './upload-plan.js';
import { PushFence, versionsBrokenByGc } from './gc-fence.js';
import { barrier } from '../store/test-barrier.js';
import { removedVersionsOf } from './removed-versions.js';
import { resolveIn } from '../workspace/resolve-in.js';

/** What to push. */
export interface PushRequest {
  /** Model names (every version) or references (one version); empty: everything. */
  refs?: readonly string[];
  /** Requests in flight (default 8). */
  jobs?: number;
  argv?: readonly string[];
  onProgress?: ProgressListener;
}

/** A version a push left out because its bytes are not here, with the command that fixes it. */
export interface SkippedVersion {
  ref: string;
  id: string;
  hint: string;
}

/** What a push did. The --json shape. */
export interface PushResult {
  remote: string;
  versions: PushedVersion[];
  /** Versions the remote lacks whose bytes this repository does not have (fetched from elsewhere, never pulled). */
  skipped: SkippedVersion[];
  chunks: Omit<ChunkUpload, 'bytesUploaded'>;
  bytesUploaded: number;
  renumbered: Renumbered[];
  tags: PushedTag[];
  stages: PushedStage[];
  events: number;
  /** Signature and attestation bundles put on the remote, or found there already (docs/design.md §11). */
  signatures: { published: number; alreadyThere: number };
  /** Stages that still name another version here than on the remote (a conflict, or a version not pushed). */
  differingStages: RefDifference[];
  warnings: string[];
}

/** What uploading versions (push phases 1–5) did. */
export interface VersionUpload {
  versions: PushedVersion[];
  skipped: SkippedVersion[];
  chunks: ChunkUpload;
  renumbered: Renumbered[];
}

/** Which versions a push covers (ascending by model, number), which models' refs, and which were named one by one. */
export function selectPushVersions(repo: Repository, refs: readonly string[]): { versions: VersionRow[]; models: Set<string>; named: Set<string> } {
  const versions = new Map<string, VersionRow>();
  const models = new Set<string>();
  const named = new Set<string>();
  const wholeModel = (name: string) => {
    for (const v of listVersions(repo.db, name)) versions.set(v.id, v);
    models.add(name);
  };
  if (refs.length === 0) listModelNames(repo.db).forEach(wholeModel);
  for (const ref of refs) {
    if (!ref.includes('@')) {
      parseRef(ref);
      requireModel(repo.db, ref);
      wholeModel(ref);
    } else {
      const v = resolveIn(repo, ref);
      versions.set(v.id, v);
      models.add(v.model);
      named.add(v.id);
    }
  }
  const sorted = [...versions.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.number - b.number));
  return { versions: sorted, models, named };
}

/**
 * Push phases 1–5 (docs/design.md §7) for `versions`: chunks → file lists → manifests →
 * numbers. A version whose bytes are not in the local store is skipped and named, unless
 * it is in `named` (asked for by reference): then IntegrityError (6) before anything is sent.
 */
export async function uploadVersions(repo: Repository, session: StoreSession, versions: readonly VersionRow[], named: ReadonlySet<string>, req: PushRequest, limit: LimitFunction): Promise<VersionUpload> {
  const fence = await PushFence.open(repo, session);
  const plan = await planUpload(repo, session, versions, limit);
  barrier('push-planned');
  const skipped = plan.missingBytes.map((v) => ({ ref: `${v.model}@v${v.number}`, id: v.id, hint: `\`modelctl pull ${v.model}@v${v.number}\` from the remote that has it, then push again` }));
  const wanted = plan.missingBytes.find((v) => named.has(v.id));
  if (wanted) {
    throw new IntegrityError('VERSION_BYTES_MISSING', `the bytes of ${wanted.model}@v${wanted.number} are not in this repository's store, so it cannot be pushed to ${session.displayUrl}`, {
      hint: `run \`modelctl pull ${wanted.model}@v${wanted.number}\` (from the remote it came from) first`,
      data: { version: wanted.id },
    });
  }
  const chunks = await uploadChunks(repo, session, plan.chunkSources, limit, req.onProgress);
  barrier('push-chunks');
  await uploadFileLists(repo, session, plan.fileLists, limit);
  req.onProgress?.({ phase: 'metadata', bytesDone: chunks.bytesUploaded, bytesTotal: chunks.bytesUploaded, itemsDone: chunks.uploaded, itemsTotal: chunks.uploaded });
  await uploadManifests(repo, session, plan.needData, limit);
  const left = new Set(plan.missingBytes.map((v) => v.id));
  // The remote gc fence (docs/design.md §16): nothing is numbered over objects a sweep removed.
  // Only versions this push publishes: ones the remote already numbered (or removed) are not re-sent.
  const publishing = new Set([...plan.needData.map((v) => v.id), ...plan.alreadyThere]);
  const toClaim = versions.filter((v) => !left.has(v.id) && publishing.has(v.id));
  for (const id of await fence.settle(toClaim, limit)) left.add(id);
  const ctx = { actor: await resolveActor(repo.root), argv: req.argv ?? [], remote: session.displayUrl };
  const numbered = await claimNumbers(repo, session, versions.filter((v) => !left.has(v.id)), plan.alreadyThere, ctx);
  barrier('push-claimed');
  const broken = await fence.settle(toClaim.filter((v) => !left.has(v.id)), limit);
  if (broken.size) throw versionsBrokenByGc(session, [...broken]);
  return { versions: numbered.versions, skipped, chunks, renumbered: numbered.renumbered };
}

/**
 * Uploads what the remote lacks, in the docs/design.md §6 write order (phases in §7):
 * chunks → file lists → manifests → numbers → tags/stages → events, so no reader ever
 * sees a reference to something absent. Tag or stage conflicts are reported and end in a
 * ConflictError (4) carrying the result, after everything else has been pushed.
 */
export async function pushTo(repo: Repository, session: StoreSession, req: PushRequest): Promise<PushResult> {
  const limit = pLimit(jobsOrDefault(req.jobs));
  const warnings: string[] = [];
  if (!session.conditionalWrites) {
    warnings.push(`${session.displayUrl} ignores conditional writes: version numbers, tags and stages are not safe against concurrent writers there`);
  }
  const selected = selectPushVersions(repo, req.refs ?? []);
  const { models, named } = selected;
  // A version the remote removed is not sent again and not called "already there" (README,
  // "Deleting on a shared remote"): the same tombstones fetch and `remote status` read.
  const removed = await removedVersionsOf(repo, session, selected.versions, limit);
  const versions = selected.versions.filter((v) => !removed.has(v.id));
  const uploaded = await uploadVersions(repo, session, versions, named, req, limit);
  uploaded.versions.push(...[...removed.values()]);
  for (const s of uploaded.skipped) warnings.push(`skipped ${s.ref}: its bytes are not in this repository; ${s.hint}`);
  // Signatures after the manifests they sign, before the tags and stages that may require them (§11).
  const signatures = await publishSignatures(repo.db, session.remote, session.remoteId, uploaded.versions.map((v) => v.id));
  warnings.push(...signatures.warnings);

  const held = new Set<string>(); // event ids held back by a conflict
  const actor = await resolveActor(repo.root);
  const tags = await pushTags(repo, session, models, held);
  const stages = await pushStages(repo, session, models, actor, held);
  const events = publishable(repo.db, session, unpushedEvents(repo.db, session.remoteId, models).filter((u) => !held.has(u.event.id)));
  await publishEvents(repo.db, session, events, limit);
  return concludePush(repo, session, models, { uploaded, tags, stages, events: events.length, signatures, warnings }, 'remote');
}

/**
 * The end of every push (bucket, folder or registry): stages that still differ from the
 * remote's become warnings, the result is assembled, and a tag or stage conflict ends it in
 * PUSH_CONFLICT carrying that result (throwOnRefConflicts).
 */
export function concludePush(
  repo: Repository,
  session: { remoteId: string; displayUrl: string; name: string | null },
  models: ReadonlySet<string>,
  parts: { uploaded: VersionUpload; tags: PushedTag[]; stages: PushedStage[]; events: number; signatures: { published: number; alreadyThere: number }; warnings: string[] },
  where: 'remote' | 'registry',
): PushResult {
  const { uploaded, tags, stages, warnings } = parts;
  const differingStages = stageDifferences(repo.db, session.remoteId, models);
  for (const d of differingStages) warnings.push(describeDifference(repo.db, d, session.displayUrl));
  const { bytesUploaded, ...chunkCounts } = uploaded.chunks;
  const result: PushResult = {
    remote: session.displayUrl,
    versions: uploaded.versions,
    skipped: uploaded.skipped,
    chunks: chunkCounts,
    bytesUploaded,
    renumbered: uploaded.renumbered,
    tags,
    stages,
    events: parts.events,
    signatures: { published: parts.signatures.published, alreadyThere: parts.signatures.alreadyThere },
    differingStages,
    warnings,
  };
  throwOnRefConflicts(result, tags, stages, where, remoteFlagFor(repo, session));
  return result;
}
