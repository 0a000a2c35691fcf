import { ConflictError } from '../errors.js';
import { decodeDoc, encodeDoc, keys, stageDocSchema, tagDocSchema, type StageDoc, type TagDoc } from '../core/remote-layout.js';
import { isPreconditionFailed } from '../remote/remote.js';
import { writeTransaction } from '../store/index-db.js';
import { getRemoteRef, setRemoteRef, type RemoteRef } from '../store/remote-tracking.js';
import { hasEvent } from '../store/events-table.js';
import { getVersion } from '../store/version-records.js';
import { resolveActor } from '../workspace/identity.js';
import type { Repository } from '../workspace/repository.js';
import { remoteFlagFor, type SessionBase, type StoreSession } from './remote-session.js';

/** A tag or stage of a model, as `--push` moves it on a remote. */
export interface RefName {
  kind: 'tag' | 'stage';
  model: string;
  name: string;
}

/** A ref document on the remote: a tag's or a stage's. */
type RefDoc = TagDoc | StageDoc;

/**
 * A ref found on the remote exactly as this repository last fetched it: the ground a
 * compare-and-swap write stands on (docs/design.md §7).
 */
export interface RefClaim {
  ref: RefName;
  key: string;
  /** The document and ETag on the remote now (null: absent): what was last fetched, or this repository's own unfinished write of the same move. */
  current: { etag: string; body: Buffer; doc: RefDoc } | null;
  /** The version the move starts from on the remote (null: the ref is absent there). */
  base: string | null;
  /** What an undo puts back (null: delete the ref). */
  restore: Buffer | null;
  /** The remote already holds this repository's move, whose local record exists (its event not yet published). */
  adopted: boolean;
}

/**
 * Reads the ref on the remote and compares it with the state this repository last fetched
 * (or pushed) there. If anyone created, moved or deleted it since, ConflictError (4) saying
 * who moved it, when, to which version, and that `modelctl fetch` then a retry is the fix;
 * nothing is changed anywhere. A ref this repository never saw counts as last seen absent.
 */
export async function claimRef(repo: Repository, session: StoreSession, ref: RefName, target?: string): Promise<RefClaim> {
  const key = ref.kind === 'tag' ? keys.tag(ref.model, ref.name) : keys.stage(ref.model, ref.name);
  const last = getRemoteRef(repo.db, session.remoteId, key);
  const got = await session.remote.get(key);
  const current = got ? { etag: got.etag, body: got.body, doc: decodeRef(ref, got.body, key) } : null;
  const lastValue = (last?.value ?? null) as RefDoc | null;
  if (isAsLastSeen(last, got)) return { ref, key, current, base: current?.doc.version ?? null, restore: current?.body ?? null, adopted: false };
  const resumed = current && target !== undefined ? await unfinishedOwnMove(repo, session, ref, key, current, lastValue, target) : null;
  if (!resumed) throw movedSinceFetch(repo, session, ref, current?.doc ?? null, 'stale');
  return resumed;
}

/**
 * True when the ref read on the remote now (`now`, null: absent) is exactly as this
 * repository last saw it there (`last`; never seen counts as seen absent): the same ETag,
 * or the same canonical bytes. The ground of every compare-and-swap of a tag or stage
 * (docs/design.md §7), by `--push` and by push alike.
 */
export function isAsLastSeen(last: RemoteRef | null, now: { etag: string; body: Buffer } | null): boolean {
  const lastValue = (last?.value ?? null) as RefDoc | null;
  if (now === null) return lastValue === null;
  return lastValue !== null && (last?.etag === now.etag || encodeDoc(lastValue).equals(now.body));
}

/**
 * A `--push` move killed between its remote write and its end (docs/design.md §7): the
 * remote ref names `target` and an event that is not on the remote (events are published
 * last), written by this user. If the event is in this index, the move is recorded here and
 * only its publication is missing: adopted as it stands. If not, the kill came before the
 * local record: the write is claimed as the ground of the same move again, from the state
 * last fetched (which a stage's document names as `previous`). Anything else — another
 * identity, another version, a published event — is someone else's move: null.
 */
async function unfinishedOwnMove(repo: Repository, session: StoreSession, ref: RefName, key: string, current: NonNullable<RefClaim['current']>, lastValue: RefDoc | null, target: string): Promise<RefClaim | null> {
  const doc = current.doc;
  if (doc.version !== target || doc.event === null) return null;
  if (doc.actor !== (await resolveActor(repo.root))) return null;
  if ((await session.remote.head(keys.event(ref.model, doc.at, doc.event))) !== null) return null;
  if (hasEvent(repo.db, doc.event)) {
    writeTransaction(repo.db, () => setRemoteRef(repo.db, session.remoteId, key, { etag: current.etag, value: doc }));
    return { ref, key, current, base: doc.version, restore: current.body, adopted: true };
  }
  const from = lastValue?.version ?? null;
  if (ref.kind === 'stage' ? (doc as StageDoc).previous !== from : from !== null) return null;
  return { ref, key, current, base: from, restore: lastValue ? encodeDoc(lastValue) : null, adopted: false };
}

/**
 * Writes `doc` to the claimed ref, compare-and-swap against the claim (S3 If-Match /
 * If-None-Match; a directory remote's lock and rename). Someone writing in between makes it
 * ConflictError (4) as in claimRef, and nothing is written. Returns the new ETag.
 */
export async function writeClaimedRef(repo: Repository, session: StoreSession, claim: RefClaim, doc: RefDoc): Promise<string> {
  try {
    const condition = claim.current ? { ifMatch: claim.current.etag } : { ifAbsent: true };
    return (await session.remote.put(claim.key, encodeDoc(doc), { condition })).etag;
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    const now = await session.remote.get(claim.key);
    throw movedSinceFetch(repo, session, claim.ref, now ? decodeRef(claim.ref, now.body, claim.key) : null, 'raced');
  }
}

/** Puts a claimed ref back as it was after a write whose local half failed (best effort: only if nobody wrote it since). */
export async function undoRefWrite(session: StoreSession, claim: RefClaim, etag: string): Promise<void> {
  await putRefBack(session, claim.key, claim.restore, etag);
}

/** Puts `restore` (null: nothing) back at `key` over this command's write `etag` (best effort: only if nobody wrote it since). */
export async function putRefBack(session: StoreSession, key: string, restore: Buffer | null, etag: string): Promise<void> {
  try {
    if (restore) await session.remote.put(key, restore, { condition: { ifMatch: etag } });
    else await session.remote.delete(key);
  } catch {
    /* someone moved it again meanwhile: theirs stands */
  }
}

/** Remembers the document written as the ref's last-seen state on this remote. */
export function rememberRefWrite(repo: Repository, session: StoreSession, claim: RefClaim, doc: RefDoc, etag: string): void {
  writeTransaction(repo.db, () => setRemoteRef(repo.db, session.remoteId, claim.key, { etag, value: doc }));
}

/** The version a claimed ref names on the remote now (null: absent). */
export function claimedVersion(claim: RefClaim): string | null {
  return claim.base;
}

function decodeRef(ref: RefName, body: Buffer, key: string): RefDoc {
  return ref.kind === 'tag' ? decodeDoc(tagDocSchema, body, key) : decodeDoc(stageDocSchema, body, key);
}

/**
 * The conflict of a ref that moved on the remote: `stale` when it had moved before this
 * command looked (since the last fetch), `raced` when someone wrote it while this command ran.
 */
export function movedSinceFetch(repo: Repository, session: Pick<SessionBase, 'name' | 'displayUrl'>, ref: RefName, now: Pick<RefDoc, 'version' | 'actor' | 'at'> | null, how: 'stale' | 'raced'): ConflictError {
  const when = how === 'stale' ? 'since this repository last fetched it' : 'while this command ran';
  const what = ref.kind === 'tag' ? `tag '${ref.name}' of ${ref.model}` : `stage '${ref.name}' of ${ref.model}`;
  const row = now ? getVersion(repo.db, now.version) : null;
  const version = now ? (row ? `${ref.model}@v${row.number}` : `version ${now.version.slice(0, 12)} (not fetched here yet)`) : null;
  const change = now ? `${now.actor} moved it to ${version} at ${now.at}` : 'it was deleted there';
  const code = ref.kind === 'stage' ? 'STAGE_MOVED' : now && how === 'stale' ? 'TAG_EXISTS' : 'TAG_MOVED';
  return new ConflictError(code, `${what} changed on the remote ${when}: ${change}; nothing was changed here or there`, {
    hint: `run \`modelctl fetch ${ref.model}${remoteFlagFor(repo, session)}\`, look (\`modelctl history ${ref.model}\`), then run the command again`,
    data: { kind: ref.kind, model: ref.model, name: ref.name, remoteVersion: now?.version ?? null, movedBy: now?.actor ?? null, movedAt: now?.at ?? null },
  });
}
