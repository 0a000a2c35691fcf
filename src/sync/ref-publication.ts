import pLimit from 'p-limit';
import type { AuditEvent } from '../core/events.js';
import type { StageDoc, TagDoc } from '../core/remote-layout.js';
import { refMovedBy, unpushedEvents } from '../store/unpushed-events.js';
import type { Repository } from '../workspace/repository.js';
import { publishEvents, publishable } from './publish-events.js';
import { claimRef, claimedVersion, rememberRefWrite, undoRefWrite, writeClaimedRef, type RefClaim, type RefName } from './ref-cas.js';
import type { StoreSession } from './remote-session.js';
import { DEFAULT_JOBS } from './transfer-progress.js';
import { uploadVersions } from './push.js';
import { getVersion } from '../store/version-records.js';
import { assertTargetNotRemoved, readTombstone, removedTarget } from './removed-target.js';

export type { RefName } from './ref-cas.js';

/**
 * One tag or stage move made on a remote together with the local move (`--push` on
 * promote, rollback and tag; docs/design.md §7). The caller builds the move's event, then
 * calls `write` (the remote ref, compare-and-swap, naming the event), makes the local move,
 * and calls `finish` — or `undo` when the local move failed after the write.
 */
export interface RefPublication {
  /** The version the ref names on the remote now (as this repository last fetched it). */
  readonly remoteVersion: string | null;
  /** Writes the remote ref for `event`; ConflictError (4) when someone moved it meanwhile, NotFoundError (3) when its version was removed there meanwhile (the write taken back). */
  write(event: AuditEvent): Promise<void>;
  /** Puts the remote ref back as it was (the local move failed). */
  undo(): Promise<void>;
  /** Remembers the written ref and publishes the event with the model's other events that may go now. */
  finish(event: AuditEvent): Promise<void>;
}

/**
 * Starts a `--push` move of `ref` to `versionId`. In this order, so that a conflict changes
 * nothing anywhere: the ref on the remote must be as this repository last fetched it
 * (ConflictError 4 otherwise, naming who moved it, when, to what, and the fix); the version
 * must not be removed there (NotFoundError 3, VERSION_REMOVED_ON_REMOTE); then the
 * version's data and number are pushed (IntegrityError 6 when its bytes are not here).
 */
export async function openRefPublication(repo: Repository, session: StoreSession, ref: RefName, versionId: string, argv: readonly string[]): Promise<RefPublication> {
  const claim = await claimRef(repo, session, ref, versionId);
  await assertTargetNotRemoved(repo, session, ref, versionId);
  const version = getVersion(repo.db, versionId);
  if (version) await uploadVersions(repo, session, [version], new Set([versionId]), { argv }, pLimit(DEFAULT_JOBS));
  // A killed run's move, on the remote and recorded here: what it had left to do is its events.
  if (claim.adopted) await publishModelEvents(repo, session, ref.model, claim.current!.doc.event!);
  let written: { etag: string; doc: TagDoc | StageDoc } | null = null;
  return {
    remoteVersion: claimedVersion(claim),
    async write(event) {
      const doc = documentFor(claim, event);
      const etag = await writeClaimedRef(repo, session, claim, doc);
      // An rm racing this move may have checked the ref before this write and written its
      // tombstone after the check above: look again, and take the move back if so (rm
      // looks again after its tombstone the same way; README, "Deleting on a shared remote").
      const gone = await readTombstone(repo, session, versionId);
      if (gone) {
        await undoRefWrite(session, claim, etag);
        throw removedTarget(session.displayUrl, ref, gone);
      }
      written = { etag, doc };
    },
    async undo() {
      if (written) await undoRefWrite(session, claim, written.etag);
      written = null;
    },
    async finish(event) {
      if (written) rememberRefWrite(repo, session, claim, written.doc, written.etag);
      await publishModelEvents(repo, session, ref.model, event.id);
    },
  };
}

/** Publishes the move's event with the model's other events that may go now: all but moves of other refs (push publishes those with their refs). */
async function publishModelEvents(repo: Repository, session: StoreSession, model: string, eventId: string): Promise<void> {
  const events = unpushedEvents(repo.db, session.remoteId, model).filter((u) => u.event.id === eventId || refMovedBy(u.event) === null);
  await publishEvents(repo.db, session, publishable(repo.db, session, events), pLimit(DEFAULT_JOBS));
}

/** The remote document of a move: a stage names its previous remote holder and the move's event; a tag its message. */
function documentFor(claim: RefClaim, e: AuditEvent): TagDoc | StageDoc {
  const version = e.to as string;
  if (claim.ref.kind === 'tag') return { version, message: e.reason, actor: e.actor, at: e.at, event: e.id };
  return { version, previous: claimedVersion(claim), event: e.id, actor: e.actor, at: e.at };
}
