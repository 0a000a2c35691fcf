import { ConflictError } from '../errors.js';
import { decodeDoc, encodeDoc, keys, stageDocSchema, tagDocSchema, type StageDoc, type TagDoc } from '../core/remote-layout.js';
import { isPreconditionFailed } from '../remote/remote.js';
import { writeTransaction } from '../store/index-db.js';
import { getRemoteRef, setRemoteRef } from '../store/remote-tracking.js';
import { getVersion } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { StoreSession } from './remote-session.js';

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
  /** The document and ETag on the remote now (null: absent), equal to what was last fetched. */
  current: { etag: string; body: Buffer; doc: RefDoc } | null;
}

/**
 * Reads the ref on the remote and compares it with the state this repository last fetched
 * (or pushed) there. If anyone created, moved or deleted it since, ConflictError (4) saying
 * who moved it, when, to which version, and that `modelctl fetch` then a retry is the fix;
 * nothing is changed anywhere. A ref this repository never saw counts as last seen absent.
 */
export async function claimRef(repo: Repository, session: StoreSession, ref: RefName): Promise<RefClaim> {
  const key = ref.kind === 'tag' ? keys.tag(ref.model, ref.name) : keys.stage(ref.model, ref.name);
  const last = getRemoteRef(repo.db, session.remoteId, key);
  const got = await session.remote.get(key);
  const current = got ? { etag: got.etag, body: got.body, doc: decodeRef(ref, got.body, key) } : null;
  const lastValue = last?.value ?? null;
  const unchanged = current === null ? lastValue === null : lastValue !== null && (last?.etag === current.etag || encodeDoc(lastValue).equals(current.body));
  if (!unchanged) throw movedSinceFetch(repo, ref, current?.doc ?? null, 'stale');
  return { ref, key, current };
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
    throw movedSinceFetch(repo, claim.ref, now ? decodeRef(claim.ref, now.body, claim.key) : null, 'raced');
  }
}

/** Puts a claimed ref back as it was after a write whose local half failed (best effort: only if nobody wrote it since). */
export async function undoRefWrite(session: StoreSession, claim: RefClaim, etag: string): Promise<void> {
  try {
    if (claim.current) await session.remote.put(claim.key, claim.current.body, { condition: { ifMatch: etag } });
    else await session.remote.delete(claim.key);
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
  return claim.current?.doc.version ?? null;
}

function decodeRef(ref: RefName, body: Buffer, key: string): RefDoc {
  return ref.kind === 'tag' ? decodeDoc(tagDocSchema, body, key) : decodeDoc(stageDocSchema, body, key);
}

/**
 * The conflict of a ref that moved on the remote: `stale` when it had moved before this
 * command looked (since the last fetch), `raced` when someone wrote it while this command ran.
 */
export function movedSinceFetch(repo: Repository, ref: RefName, now: Pick<RefDoc, 'version' | 'actor' | 'at'> | null, how: 'stale' | 'raced'): ConflictError {
  const when = how === 'stale' ? 'since this repository last fetched it' : 'while this command ran';
  const what = ref.kind === 'tag' ? `tag '${ref.name}' of ${ref.model}` : `stage '${ref.name}' of ${ref.model}`;
  const row = now ? getVersion(repo.db, now.version) : null;
  const version = now ? (row ? `${ref.model}@v${row.number}` : `version ${now.version.slice(0, 12)} (not fetched here yet)`) : null;
  const change = now ? `${now.actor} moved it to ${version} at ${now.at}` : 'it was deleted there';
  const code = ref.kind === 'stage' ? 'STAGE_MOVED' : now && how === 'stale' ? 'TAG_EXISTS' : 'TAG_MOVED';
  return new ConflictError(code, `${what} changed on the remote ${when}: ${change}; nothing was changed here or there`, {
    hint: `run \`modelctl fetch ${ref.model}\`, look (\`modelctl history ${ref.model}\`), then run the command again`,
    data: { kind: ref.kind, model: ref.model, name: ref.name, remoteVersion: now?.version ?? null, movedBy: now?.actor ?? null, movedAt: now?.at ?? null },
  });
}
