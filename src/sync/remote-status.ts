import pLimit, { type LimitFunction } from 'p-limit';
import { decodeDoc, parseModelKey, stageDocSchema, tagDocSchema } from '../core/remote-layout.js';
import { publishableEventIds } from '../store/unpushed-events.js';
import { listModelNames, listVersions } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import { listModels, type ModelListing } from './fetch-read.js';
import { compareRefs, localRefs, type RefDifference, type RefMap } from './ref-differences.js';
import { Rejections, type RejectedDocument } from './rejected-documents.js';
import type { StoreSession } from './remote-session.js';
import { heldTombstones } from './removed-versions.js';
import { DEFAULT_JOBS } from './transfer-progress.js';

/** How one model here compares with a remote. */
export interface ModelRemoteStatus {
  model: string;
  /** Local versions the remote has no manifest of (push sends them). */
  versionsMissing: { ref: string; id: string }[];
  /** Tags and stages that name another version here than there. */
  tags: RefDifference[];
  stages: RefDifference[];
  /** Local events of the model the remote does not hold (push publishes them). */
  unpublishedEvents: number;
}

/** How the local index compares with one remote, read from the remote now. The --json shape of `remote status`. */
export interface RemoteStatus {
  remote: string;
  /** Models that differ in any way (the others are in sync). */
  models: ModelRemoteStatus[];
  /** Models in sync. */
  inSync: string[];
  /**
   * Versions held here that the remote has removed (their tombstones): not missing there, and
   * not a difference, since no push or fetch changes them (README, "Deleting on a shared remote").
   */
  removedOnRemote: { model: string; ref: string; id: string; number: number; reason: string; actor: string; at: string }[];
  /** Remote tag or stage documents that failed their checks (left out of the comparison). */
  rejected: RejectedDocument[];
}

/**
 * Compares the local index with what the remote holds now (docs/design.md §7), reading it
 * and changing nothing on either side: per model, the versions the remote lacks, the tags
 * and stages that differ, and the events not published there; apart, the versions held here
 * that it removed. One listing of versions/ and of models/, and a read of each tag and stage
 * document and of each tombstone not read before.
 */
export async function remoteStatusOf(repo: Repository, session: StoreSession): Promise<RemoteStatus> {
  const onRemote = new Set<string>();
  for await (const o of session.remote.list('versions/')) onRemote.add(o.key.slice('versions/'.length).replace(/\.json$/, ''));
  const listing = await listModels(session, undefined);
  const rejections = new Rejections();
  const limit = pLimit(DEFAULT_JOBS);
  const out: RemoteStatus = { remote: session.displayUrl, models: [], inSync: [], removedOnRemote: [], rejected: rejections.list };
  for (const model of [...new Set([...listModelNames(repo.db), ...listing.keys()])].sort()) {
    const kinds: ModelListing = listing.get(model) ?? new Map();
    const remote = { tags: await readRefs(session, kinds, 'tags', limit, rejections), stages: await readRefs(session, kinds, 'stages', limit, rejections) };
    const local = localRefs(repo.db, model);
    const remoteEvents = new Set((kinds.get('events') ?? []).map((o) => /([0-9a-f]{64})\.json$/.exec(o.key)?.[1]));
    const removed = await heldTombstones(repo, session, model, kinds.get('removed') ?? [], limit, rejections);
    const removedIds = new Set(removed.map((t) => t.doc.version));
    for (const { doc } of removed) out.removedOnRemote.push({ model, ref: `${model}@v${doc.number}`, id: doc.version, number: doc.number, reason: doc.reason, actor: doc.actor, at: doc.at });
    const status: ModelRemoteStatus = {
      model,
      versionsMissing: listVersions(repo.db, model)
        .reverse()
        .filter((v) => !onRemote.has(v.id) && !removedIds.has(v.id))
        .map((v) => ({ ref: `${model}@v${v.number}`, id: v.id })),
      tags: compareRefs(model, 'tag', local.tags, remote.tags),
      stages: compareRefs(model, 'stage', local.stages, remote.stages),
      unpublishedEvents: publishableEventIds(repo.db, model).filter((id) => !remoteEvents.has(id)).length,
    };
    const differs = status.versionsMissing.length || status.tags.length || status.stages.length || status.unpublishedEvents;
    if (differs) out.models.push(status);
    else out.inSync.push(model);
  }
  return out;
}

/** name → version of a model's tag (or stage) documents on the remote, each checked. */
async function readRefs(session: StoreSession, kinds: ModelListing, kind: 'tags' | 'stages', limit: LimitFunction, rejections: Rejections): Promise<RefMap> {
  const decode = (body: Buffer, key: string): { version: string } => (kind === 'tags' ? decodeDoc(tagDocSchema, body, key) : decodeDoc(stageDocSchema, body, key));
  const docs = await Promise.all(
    (kinds.get(kind) ?? []).map((o) =>
      limit(async () => {
        const got = await session.remote.get(o.key);
        const doc = got && rejections.parse(o.key, () => decode(got.body, o.key));
        return doc ? ([parseModelKey(o.key)!.name, doc.version] as const) : null;
      }),
    ),
  );
  return new Map(docs.filter((d) => d !== null));
}
