import { decodeDoc, encodeDoc, keys, stageDocSchema, tagDocSchema, type RemovedDoc, type StageDoc, type TagDoc } from '../core/remote-layout.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { isPreconditionFailed } from '../remote/remote.js';
import { getRemoteRef, remoteVersionNumber, setRemoteRef } from '../store/remote-tracking.js';
import { getStageHolder } from '../store/stages-table.js';
import { getTag } from '../store/tags-table.js';
import { unpushedRefMoves } from '../store/unpushed-events.js';
import { findModelId } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import { isAsLastSeen, putRefBack } from './ref-cas.js';
import type { StoreSession } from './remote-session.js';
import { readTombstone } from './removed-target.js';

/** A tombstone, as a push reports the version a ref could not be published onto. */
export type RefRemoval = Pick<RemovedDoc, 'number' | 'actor' | 'at' | 'reason'>;

/** What a push did with one tag. */
export interface PushedTag {
  model: string;
  tag: string;
  status: 'created' | 'moved' | 'deleted' | 'in-sync' | 'conflict' | 'removed';
  /** On a conflict: the version the remote's tag names now (null: deleted there), and who moved it. */
  remoteVersion?: string | null;
  movedBy?: string;
  /** On `removed`: the tombstone of the version the local tag names (it was not published). */
  removal?: RefRemoval;
}

/** What a push did with one stage. */
export interface PushedStage {
  model: string;
  stage: string;
  status: 'moved' | 'in-sync' | 'conflict' | 'removed';
  /** On a conflict: the version the remote's stage names now, and who moved it. */
  remoteVersion?: string | null;
  movedBy?: string;
  /** On `removed`: the tombstone of the version the local stage names (it was not published). */
  removal?: RefRemoval;
}

/**
 * The end of every push (bucket, folder or registry): when a tag or stage could not be
 * published, an error naming each one and carrying `result` (everything else was pushed);
 * else nothing. One naming a version removed on the remote makes it NotFoundError
 * `VERSION_REMOVED_ON_REMOTE` (3), as for the `--push` moves; else a ref the remote moved
 * meanwhile makes it ConflictError `PUSH_CONFLICT` (4). `where` names the kind of remote;
 * `remoteFlag` is what the hint's `modelctl fetch` needs to read the same remote.
 */
export function throwOnRefConflicts<R>(result: R, tags: readonly PushedTag[], stages: readonly PushedStage[], where: 'remote' | 'registry', remoteFlag = ''): void {
  const moved = (r: { remoteVersion?: string | null; movedBy?: string }) =>
    r.remoteVersion === undefined ? '' : r.remoteVersion === null ? ' (deleted there)' : ` (moved by ${r.movedBy ?? 'someone'} to ${r.remoteVersion.slice(0, 12)})`;
  const conflicts = [
    ...tags.filter((t) => t.status === 'conflict').map((t) => `tag ${t.model}@${t.tag}${moved(t)}`),
    ...stages.filter((s) => s.status === 'conflict').map((s) => `stage ${s.model}@${s.stage}${moved(s)}`),
  ];
  const gone = ({ removal: r }: { removal?: RefRemoval }) => `v${r!.number}, which ${r!.actor} removed there at ${r!.at} (reason: ${r!.reason})`;
  const removed = [
    ...tags.filter((t) => t.status === 'removed').map((t) => `tag ${t.model}@${t.tag} names ${gone(t)}`),
    ...stages.filter((s) => s.status === 'removed').map((s) => `stage ${s.model}@${s.stage} names ${gone(s)}`),
  ];
  if (removed.length > 0) {
    const also = conflicts.length ? `; and the ${where} moved meanwhile: ${conflicts.join('; ')}` : '';
    throw new NotFoundError('VERSION_REMOVED_ON_REMOTE', `pushed the versions, but did not publish what names a version removed on the ${where}: ${removed.join('; ')}${also}`, {
      hint: 'move each of them to another version (`modelctl promote`, `modelctl rollback --to`, `modelctl tag --force`, or `modelctl tag -d`), then push again',
      data: { result },
    });
  }
  if (conflicts.length === 0) return;
  throw new ConflictError('PUSH_CONFLICT', `pushed the versions, but the ${where} moved meanwhile: ${conflicts.join('; ')}`, {
    hint: `run \`modelctl fetch${remoteFlag}\` to take the ${where} state, then tag or promote again`,
    data: { result },
  });
}

/**
 * Publishes the tags moved locally (their events are unpushed) of `models` (docs/design.md
 * §7, phase 6), against the tag this repository last saw on the remote: a new tag
 * create-only; a `--force` move compare-and-swap, and only while the remote tag is still the
 * one last seen (README, "Working in a team"); a local delete likewise. A tag whose version
 * is not on this remote waits; one whose version the remote removed is not published
 * (`removed`). On a conflict the tag's events go into `held` (they are not published) and
 * the tag is reported as `conflict`, with what the remote's tag names now and who moved it.
 */
export async function pushTags(repo: Repository, session: StoreSession, models: ReadonlySet<string>, held: Set<string>): Promise<PushedTag[]> {
  const out: PushedTag[] = [];
  const { remote, remoteId } = session;
  for (const { model, name: tag, events } of unpushedRefMoves(repo.db, remoteId, models, 'tag').values()) {
    const key = keys.tag(model, tag);
    const modelId = findModelId(repo.db, model);
    const local = modelId === null ? null : getTag(repo.db, modelId, tag);
    if (local && remoteVersionNumber(repo.db, remoteId, local.versionId) === undefined) continue;
    const last = getRemoteRef(repo.db, remoteId, key);
    const current = await remote.get(key);
    const currentDoc = current ? decodeDoc(tagDocSchema, current.body, key) : null;
    const conflict = () => {
      events.forEach((e) => held.add(e.id));
      out.push({ model, tag, status: 'conflict', remoteVersion: currentDoc?.version ?? null, movedBy: currentDoc?.actor });
    };
    if (!local) {
      // Deleted locally: delete remotely only if it still points where we last saw it.
      if (!currentDoc) {
        setRemoteRef(repo.db, remoteId, key, { etag: null, value: null });
      } else if (isAsLastSeen(last, current)) {
        await remote.delete(key);
        setRemoteRef(repo.db, remoteId, key, { etag: null, value: null });
        out.push({ model, tag, status: 'deleted' });
      } else {
        conflict();
      }
      continue;
    }
    if (currentDoc?.version === local.versionId) {
      setRemoteRef(repo.db, remoteId, key, { etag: current!.etag, value: currentDoc });
      out.push({ model, tag, status: 'in-sync' });
      continue;
    }
    const forced = events.some((e) => e.action === 'tag-move');
    // Create-only: someone else's tag of that name is there. Forced: compare-and-swap
    // against what this repository last saw (moved or deleted since: a conflict), not
    // against whatever is there now.
    if (currentDoc ? !forced || !isAsLastSeen(last, current) : forced && !isAsLastSeen(last, null)) {
      conflict();
      continue;
    }
    const removal = await readTombstone(repo, session, local.versionId);
    if (removal) {
      events.forEach((e) => held.add(e.id));
      out.push({ model, tag, status: 'removed', removal });
      continue;
    }
    const doc: TagDoc = { version: local.versionId, message: local.message, actor: local.actor, at: local.createdAt, event: events[events.length - 1].id };
    try {
      const { etag } = await remote.put(key, encodeDoc(doc), { condition: current ? { ifMatch: current.etag } : { ifAbsent: true } });
      const raced = await readTombstone(repo, session, local.versionId);
      if (raced) {
        // Removed while this push ran (README, "Deleting on a shared remote"): take it back.
        await putRefBack(session, key, current?.body ?? null, etag);
        events.forEach((e) => held.add(e.id));
        out.push({ model, tag, status: 'removed', removal: raced });
        continue;
      }
      setRemoteRef(repo.db, remoteId, key, { etag, value: doc });
      out.push({ model, tag, status: current ? 'moved' : 'created' });
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      const now = await remote.get(key);
      const nowDoc = now ? decodeDoc(tagDocSchema, now.body, key) : null;
      events.forEach((e) => held.add(e.id));
      out.push({ model, tag, status: 'conflict', remoteVersion: nowDoc?.version ?? null, movedBy: nowDoc?.actor });
    }
  }
  return out;
}

/**
 * Publishes the stages moved locally of `models` (docs/design.md §7, phase 6), each a
 * compare-and-swap against the stage document this repository last saw on the remote: if
 * anyone moved it since, the stage is reported as `conflict` (who, to what) and its events
 * are held back. A stage whose version is not on this remote waits; one whose version the
 * remote removed is not published (`removed`, its events held back).
 */
export async function pushStages(repo: Repository, session: StoreSession, models: ReadonlySet<string>, actor: string, held: Set<string>): Promise<PushedStage[]> {
  const out: PushedStage[] = [];
  const { remote, remoteId } = session;
  for (const { model, name: stage, events } of unpushedRefMoves(repo.db, remoteId, models, 'stage').values()) {
    const key = keys.stage(model, stage);
    const modelId = findModelId(repo.db, model);
    const local = modelId === null ? null : getStageHolder(repo.db, modelId, stage);
    if (!local) continue;
    if (remoteVersionNumber(repo.db, remoteId, local.versionId) === undefined) continue;
    const last = getRemoteRef(repo.db, remoteId, key);
    const lastDoc = (last?.value ?? null) as StageDoc | null;
    const lastMove = events[events.length - 1].id;
    // Moved away and back (promote, then rollback) is still a move to publish: the document
    // must name the last move, or no chain reaches the events in between and every clone
    // flags them as unvouched (docs/design.md §8).
    if (lastDoc?.version === local.versionId && lastDoc.event === lastMove) {
      out.push({ model, stage, status: 'in-sync' });
      continue;
    }
    const removal = await readTombstone(repo, session, local.versionId);
    if (removal) {
      events.forEach((e) => held.add(e.id));
      out.push({ model, stage, status: 'removed', removal });
      continue;
    }
    const doc: StageDoc = { version: local.versionId, previous: lastDoc?.version ?? null, event: lastMove, actor, at: new Date().toISOString() };
    try {
      const { etag } = await remote.put(key, encodeDoc(doc), { condition: last?.etag ? { ifMatch: last.etag } : { ifAbsent: true } });
      const raced = await readTombstone(repo, session, local.versionId);
      if (raced) {
        // Removed while this push ran (README, "Deleting on a shared remote"): take it back.
        await putRefBack(session, key, lastDoc ? encodeDoc(lastDoc) : null, etag);
        events.forEach((e) => held.add(e.id));
        out.push({ model, stage, status: 'removed', removal: raced });
        continue;
      }
      setRemoteRef(repo.db, remoteId, key, { etag, value: doc });
      out.push({ model, stage, status: 'moved' });
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      const now = await remote.get(key);
      const nowDoc = now ? decodeDoc(stageDocSchema, now.body, key) : null;
      if (nowDoc?.version === local.versionId) {
        setRemoteRef(repo.db, remoteId, key, { etag: now!.etag, value: nowDoc });
        out.push({ model, stage, status: 'in-sync' });
        continue;
      }
      events.forEach((e) => held.add(e.id));
      out.push({ model, stage, status: 'conflict', remoteVersion: nowDoc?.version ?? null, movedBy: nowDoc?.actor });
    }
  }
  return out;
}
