import pLimit from 'p-limit';
import { ConflictError } from '../errors.js';
import { parseRef } from '../core/refs.js';
import { decodeDoc, encodeDoc, keys, stageDocSchema, tagDocSchema } from '../core/remote-layout.js';
import { writeTransaction } from '../store/index-db.js';
import { getRemoteRef, setRemoteRef } from '../store/remote-tracking.js';
import { unpushedEvents } from '../store/unpushed-events.js';
import { publishEvents } from './publish-events.js';
import { resolveRef } from '../store/resolve-ref.js';
import { getVersion } from '../store/version-records.js';
import { resolveActor } from '../workspace/identity.js';
import { fetchInto } from './fetch.js';
import { policyDenial, promote, type PromoteOptions, type StageMoveResult } from './promote.js';
import { pushTo } from './push.js';
import { openRemoteSession, type RemoteSession } from './remote-session.js';
import { withRepository, type Repository } from './repository.js';
import { rollback, type RollbackOptions } from './rollback.js';
import { tag, type TagOptions, type TagResult } from './tag.js';
import { DEFAULT_JOBS } from './transfer-progress.js';

/**
 * `--push` for promote, rollback and tag: act on the remote at once. The order makes a
 * conflict change nothing anywhere: fetch the model (fresh ETags) → check the move locally
 * (dry run: policy, archived) → push the target version's data → write the ref on the
 * remote with compare-and-swap (a lost race: exit 4, naming who moved it to what) → make
 * the local move → publish its event. If the local move then fails (a pre-* hook says no),
 * the remote ref is put back.
 */
export interface PushOption {
  /** Remote name or URL (default: the default remote). */
  remote?: string;
}

/** promote --push. */
export async function promoteAndPush(opts: PromoteOptions & PushOption): Promise<Published<StageMoveResult>> {
  const model = parseRef(opts.ref).model;
  return withSession(opts, model, async (repo, session) => {
    const dry = await promote({ ...opts, dryRun: true, confirm: undefined });
    return publishStageMove(repo, session, dry, () => promote({ ...opts, dryRun: false }));
  });
}

/** rollback --push. */
export async function rollbackAndPush(opts: RollbackOptions & PushOption): Promise<Published<StageMoveResult>> {
  return withSession(opts, opts.model, async (repo, session) => {
    const dry = await rollback({ ...opts, dryRun: true, confirm: undefined });
    return publishStageMove(repo, session, dry, () => rollback({ ...opts, dryRun: false }));
  });
}

/** tag --push. */
export async function tagAndPush(opts: TagOptions & PushOption): Promise<Published<TagResult>> {
  const model = parseRef(opts.ref).model;
  return withSession(opts, model, async (repo, session) => {
    const target = resolveRef(repo.db, opts.ref);
    await pushTo(repo, session, { refs: [`${model}@${target.id}`], argv: opts.argv }, DEFAULT_JOBS);
    const key = keys.tag(model, opts.name);
    const current = await session.remote.get(key);
    const currentDoc = current ? decodeDoc(tagDocSchema, current.body, key) : null;
    if (currentDoc?.version !== target.id) {
      if (currentDoc && !opts.force) {
        throw new ConflictError('TAG_EXISTS', `tag '${opts.name}' already exists on the remote for ${model} (version ${currentDoc.version.slice(0, 12)}, by ${currentDoc.actor})`, {
          hint: `tags are immutable; move it with \`modelctl tag ${model}@<ref> ${opts.name} --force --push\``,
        });
      }
      const doc = { version: target.id, message: opts.message ?? null, actor: await resolveActor(repo.root), at: new Date().toISOString(), event: null };
      let etag: string;
      try {
        etag = (await session.remote.put(key, encodeDoc(doc), { condition: current ? { ifMatch: current.etag } : { ifAbsent: true } })).etag;
      } catch (err) {
        if ((err as { code?: string }).code !== 'PRECONDITION_FAILED') throw err;
        throw new ConflictError('TAG_MOVED', `tag '${opts.name}' of ${model} was written on the remote meanwhile; nothing changed`, { hint: 'run the command again' });
      }
      let result: TagResult;
      try {
        result = await tag(opts);
      } catch (err) {
        await restore(session, key, current?.body ?? null, etag);
        throw err;
      }
      await publishEvents(repo.db, session.remote, unpushedEvents(repo.db, model), pLimit(DEFAULT_JOBS));
      writeTransaction(repo.db, () => setRemoteRef(repo.db, session.remoteId, key, { etag, value: doc }));
      return result;
    }
    const result = await tag(opts);
    await publishEvents(repo.db, session.remote, unpushedEvents(repo.db, model), pLimit(DEFAULT_JOBS));
    return result;
  });
}

/** Results of the --push verbs carry the warnings a push would print. */
export type Published<T> = T & { warnings: string[] };

async function withSession<T extends object>(opts: PushOption & { cwd?: string; env?: NodeJS.ProcessEnv }, model: string, fn: (repo: Repository, s: RemoteSession) => Promise<T>): Promise<Published<T>> {
  return withRepository(opts, async (repo) => {
    const session = await openRemoteSession(repo.settings, repo.root, opts.remote, { create: true, db: repo.db, env: repo.env, probe: true });
    try {
      await fetchInto(repo, session, model, DEFAULT_JOBS);
      // Compare-and-swap needs a store that honours conditional writes; on one that does
      // not (s3rver), two racing moves could both "win": say so on every such move.
      const warnings = session.conditionalWrites
        ? []
        : [`${session.displayUrl} ignores conditional writes: a concurrent move by someone else could silently overwrite this one`];
      return { ...(await fn(repo, session)), warnings };
    } finally {
      await session.remote.close();
    }
  });
}

async function publishStageMove(repo: Repository, session: RemoteSession, dry: StageMoveResult, move: () => Promise<StageMoveResult>): Promise<StageMoveResult> {
  if (!dry.allowed) {
    throw policyDenial({ action: dry.action, model: dry.model, number: dry.version.number, versionId: dry.version.id, stage: dry.stage, unmet: dry.unmet, checked: dry.checked });
  }
  if (dry.previous?.id === dry.version.id) return { ...dry, dryRun: false }; // already there, here and (after the fetch) on the remote
  await pushTo(repo, session, { refs: [`${dry.model}@${dry.version.id}`] }, DEFAULT_JOBS);
  const key = keys.stage(dry.model, dry.stage);
  const last = getRemoteRef(repo.db, session.remoteId, key);
  const doc = { version: dry.version.id, previous: dry.previous?.id ?? null, event: null, actor: await resolveActor(repo.root), at: new Date().toISOString() };
  let etag: string;
  try {
    etag = (await session.remote.put(key, encodeDoc(doc), { condition: last?.etag ? { ifMatch: last.etag } : { ifAbsent: true } })).etag;
  } catch (err) {
    if ((err as { code?: string }).code !== 'PRECONDITION_FAILED') throw err;
    const now = await session.remote.get(key);
    const nowDoc = now ? decodeDoc(stageDocSchema, now.body, key) : null;
    const who = nowDoc ? `${nowDoc.actor} moved it to ${dry.model}@${numberOf(repo, nowDoc.version)}` : 'it changed';
    throw new ConflictError('STAGE_MOVED', `'${dry.stage}' of ${dry.model} was moved on the remote meanwhile (${who}); nothing changed here or there`, {
      hint: `see it with \`modelctl fetch ${dry.model} && modelctl history ${dry.model} --stage ${dry.stage}\`, then decide again`,
      data: { stage: dry.stage, remoteVersion: nowDoc?.version ?? null, movedBy: nowDoc?.actor ?? null },
    });
  }
  let result: StageMoveResult;
  try {
    result = await move();
  } catch (err) {
    await restore(session, key, last?.etag ? encodeDoc(last.value) : null, etag);
    throw err;
  }
  await publishEvents(repo.db, session.remote, unpushedEvents(repo.db, dry.model), pLimit(DEFAULT_JOBS));
  writeTransaction(repo.db, () => setRemoteRef(repo.db, session.remoteId, key, { etag, value: doc }));
  return result;
}

function numberOf(repo: Repository, id: string): string {
  const v = getVersion(repo.db, id);
  return v ? `v${v.number}` : id.slice(0, 12);
}

/** Puts a remote ref back as it was (best effort: only if nobody wrote it since). */
async function restore(session: RemoteSession, key: string, previous: Buffer | null, etag: string): Promise<void> {
  try {
    if (previous) await session.remote.put(key, previous, { condition: { ifMatch: etag } });
    else await session.remote.delete(key);
  } catch {
    /* someone moved it again meanwhile: theirs stands */
  }
}
