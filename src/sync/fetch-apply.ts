import type { AuditEvent } from '../core/events.js';
import { versionIdentity } from '../core/manifest.js';
import { keys, parseModelKey } from '../core/remote-layout.js';
import { chainToStageDocument } from '../core/stage-chain.js';
import { appendEvent } from '../store/events-table.js';
import type { Database } from '../store/index-db.js';
import { rememberRemoteVersion, seenRemoteRefKeys, setRemoteRef } from '../store/remote-tracking.js';
import { getStageHolder, moveStage, stageHistory } from '../store/stages-table.js';
import { stageMoveEvents } from '../store/history-queries.js';
import { deleteTag, getTag, setTag } from '../store/tags-table.js';
import { hasUnpushedRefMove, markEventsOnRemote, markEventsSuperseded, unpushedRefMoves } from '../store/unpushed-events.js';
import { ensureModel, getVersion, insertVersion } from '../store/version-records.js';
import type { ModelListing, ModelRead } from './fetch-read.js';
import { freeNumberForRemote, takeRemoteNumber, type RenumberContext } from './renumber.js';

/** What one fetch changed for one model. */
export interface ModelFetch {
  model: string;
  newVersions: { number: number; id: string }[];
  renumbered: { id: string; from: number; to: number }[];
  tags: { tag: string; version: string | null }[];
  stages: { stage: string; version: string }[];
  events: number;
  /** Versions this index holds that the remote has removed since (their tombstones; the local copies stay). */
  removedOnRemote: { number: number; id: string; reason: string; actor: string; at: string }[];
}

/**
 * Applies what was read of one model to the index (docs/design.md §7, fetch phase 2), inside
 * the caller's transaction, in the write order: versions (with their numbers: a local,
 * not-yet-pushed version holding one moves up through the one renumbering path), events,
 * tags, stages. The remote wins for refs it changed since the last fetch; a local move not
 * yet pushed is kept for tags (push --force publishes it) and superseded for stages.
 */
export function applyModel(db: Database, remoteId: string, model: string, listing: ModelListing, read: ModelRead, ctx: RenumberContext, warnings: string[]): ModelFetch {
  const out: ModelFetch = { model, newVersions: [], renumbered: [], tags: [], stages: [], events: 0, removedOnRemote: [] };
  for (const t of read.removed ?? []) {
    if (t.fresh) setRemoteRef(db, remoteId, t.key, { etag: t.etag, value: t.doc });
    out.removedOnRemote.push({ number: t.doc.number, id: t.doc.version, reason: t.doc.reason, actor: t.doc.actor, at: t.doc.at });
  }
  const modelId = ensureModel(db, model);
  // A local version in the way moves past every number this fetch brings, in one move.
  const bumpTo = Math.max(0, ...read.numbered.map((e) => e.n)) + 1;
  for (const e of read.numbered) {
    const local = getVersion(db, e.id);
    if (local) {
      if (local.number !== e.n) out.renumbered.push(...takeRemoteNumber(db, model, e.id, e.n, ctx, bumpTo));
    } else {
      out.renumbered.push(...freeNumberForRemote(db, model, e.n, ctx, bumpTo));
      const m = read.manifests.get(e.id)!;
      insertVersion(db, { id: e.id, manifest: m, number: e.n, identity: versionIdentity(m) });
      out.newVersions.push({ number: e.n, id: e.id });
    }
    rememberRemoteVersion(db, remoteId, e.id, e.n);
  }
  const appended: AuditEvent[] = [];
  for (const e of read.events) {
    if (appendEvent(db, e, { pushed: true })) {
      out.events++;
      appended.push(e);
    }
  }
  markEventsOnRemote(db, remoteId, [...read.events.map((e) => e.id), ...read.heldEvents]);
  for (const t of read.tags) {
    setRemoteRef(db, remoteId, t.key, { etag: t.etag, value: t.doc });
    if (!getVersion(db, t.doc.version)) {
      warnings.push(`tag ${model}@${t.name} names version ${t.doc.version.slice(0, 12)}, which the remote has no number for; skipped`);
      continue;
    }
    const local = getTag(db, modelId, t.name);
    if (local?.versionId === t.doc.version) continue;
    if (local && hasUnpushedRefMove(db, remoteId, model, 'tag', t.name)) {
      warnings.push(`tag ${model}@${t.name} was moved locally and on the remote; kept the local one (push --force to publish it)`);
      continue;
    }
    setTag(db, { modelId, model, name: t.name, versionId: t.doc.version, message: t.doc.message, actor: t.doc.actor, force: true });
    out.tags.push({ tag: t.name, version: t.doc.version });
  }
  // Tags deleted on the remote since we last saw them.
  const listedTags = new Set((listing.get('tags') ?? []).map((o) => o.key));
  for (const key of seenRemoteRefKeys(db, remoteId, keys.tagsPrefix(model))) {
    if (listedTags.has(key)) continue;
    const name = parseModelKey(key)?.name;
    setRemoteRef(db, remoteId, key, { etag: null, value: null });
    if (name && getTag(db, modelId, name) && !hasUnpushedRefMove(db, remoteId, model, 'tag', name)) {
      deleteTag(db, modelId, model, name);
      out.tags.push({ tag: name, version: null });
    }
  }
  for (const s of read.stages) {
    const stage = s.name;
    setRemoteRef(db, remoteId, s.key, { etag: s.etag, value: s.doc });
    if (!getVersion(db, s.doc.version)) {
      warnings.push(`stage ${model}@${stage} names version ${s.doc.version.slice(0, 12)}, unknown here; skipped`);
      continue;
    }
    const holder = getStageHolder(db, modelId, stage)?.versionId ?? null;
    // The remote may have moved the stage several times since we last looked: record each
    // move its events explain, in order, so that rollback here walks the same chain as
    // there (a single jump to the current holder would skip the versions in between).
    // The chain is read back from the event the stage document names (core/stage-chain.ts),
    // so an event planted in events/ that the documents do not vouch for is never applied;
    // it stops at a move already recorded here. A stage moved away and back (promote, then
    // rollback, each --push) ends on the version held here, but its document names a move
    // not recorded yet: those moves are recorded too, or `history` would call a teammate's
    // published moves unvouched (README, "The audit trail: what 'tamper-evident across copies' means").
    const recorded = new Set(stageHistory(db, modelId, stage).map((h) => h.eventId));
    if (holder === s.doc.version && (!s.doc.event || recorded.has(s.doc.event))) continue;
    const chain = chainToStageDocument(stageMoveEvents(db, model, stage), s.doc.event ?? null, s.doc.version, (m) => recorded.has(m.id));
    if (holder === s.doc.version && chain.length === 0) continue;
    if (hasUnpushedRefMove(db, remoteId, model, 'stage', stage)) {
      warnings.push(`stage ${model}@${stage} was moved on the remote (by ${s.doc.actor}); your unpushed local move was superseded`);
      markEventsSuperseded(db, unpushedRefMoves(db, remoteId, model, 'stage').get(`${model}\0${stage}`)?.events.map((e) => e.id) ?? []);
    }
    let current = holder;
    for (const e of chain) {
      if (e.to === null || e.to === current || !getVersion(db, e.to)) continue;
      moveStage(db, { modelId, stage, versionId: e.to, eventId: e.id, at: e.at });
      current = e.to;
    }
    if (current !== s.doc.version) moveStage(db, { modelId, stage, versionId: s.doc.version, eventId: s.doc.event ?? '', at: s.doc.at });
    if (holder === s.doc.version) continue; // away and back: the stage names what it named
    out.stages.push({ stage, version: s.doc.version });
  }
  return out;
}
