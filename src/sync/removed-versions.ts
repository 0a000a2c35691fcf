import type { LimitFunction } from 'p-limit';
import { decodeDoc, parseModelKey, removedDocSchema, type RemovedDoc } from '../core/remote-layout.js';
import type { ObjectInfo } from '../remote/remote.js';
import { getRemoteRef, remoteNumbersOf } from '../store/remote-tracking.js';
import { keys } from '../core/remote-layout.js';
import { getVersion, type VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { PushedVersion } from './claim-numbers.js';
import type { FetchedRef } from './fetch-read.js';
import { Rejections } from './rejected-documents.js';
import type { StoreSession } from './remote-session.js';

/** A tombstone of a version this index holds, as read (`fresh`) or as remembered from an earlier read. */
export type HeldTombstone = FetchedRef<RemovedDoc> & { fresh: boolean };

/**
 * The tombstones among `listed` (a model's `removed/` keys on the remote) of versions this
 * index holds under a number it had from this remote: the remote removed them since
 * (docs/design.md §16). Fetch, push and `remote status` all judge removal by this one
 * reading, so they agree (README, "Deleting on a shared remote"). A tombstone is
 * create-only: one remembered is not read again. Reads, never writes the index; a document
 * that fails its check goes to `rejections` and counts as no removal.
 */
export async function heldTombstones(repo: Repository, session: StoreSession, model: string, listed: readonly ObjectInfo[], limit: LimitFunction, rejections: Rejections): Promise<HeldTombstone[]> {
  const { db } = repo;
  const knownNumbers = remoteNumbersOf(db, session.remoteId, model);
  const read = await Promise.all(
    listed
      .filter((o) => knownNumbers.has(Number(parseModelKey(o.key)!.name)))
      .map((o) =>
        limit(async (): Promise<HeldTombstone | null> => {
          const name = parseModelKey(o.key)!.name;
          const seen = getRemoteRef(db, session.remoteId, o.key);
          const cached = seen?.value ? removedDocSchema.safeParse(seen.value) : null;
          if (cached?.success) return { key: o.key, name, etag: seen!.etag ?? o.etag, doc: cached.data, fresh: false };
          const got = await session.remote.get(o.key);
          const doc = got && rejections.parse(o.key, () => decodeDoc(removedDocSchema, got.body, o.key));
          return got && doc && getVersion(db, doc.version) ? { key: o.key, name, etag: got.etag, doc, fresh: true } : null;
        }),
      ),
  );
  return read.filter((t) => t !== null);
}

/**
 * The versions among `versions` that the remote removed, as a push reports them (status
 * `removed`, with who removed them, when and why), by id. One listing of `removed/` per
 * model, and a read of each tombstone of a held version not read before.
 */
export async function removedVersionsOf(repo: Repository, session: StoreSession, versions: readonly VersionRow[], limit: LimitFunction): Promise<Map<string, PushedVersion>> {
  const out = new Map<string, PushedVersion>();
  const wanted = new Set(versions.map((v) => v.id));
  for (const model of new Set(versions.map((v) => v.model))) {
    const listed: ObjectInfo[] = [];
    for await (const o of session.remote.list(keys.removedPrefix(model))) listed.push(o);
    for (const { doc } of await heldTombstones(repo, session, model, listed, limit, new Rejections())) {
      if (!wanted.has(doc.version)) continue;
      out.set(doc.version, { ref: `${model}@v${doc.number}`, id: doc.version, number: doc.number, status: 'removed', removal: { reason: doc.reason, actor: doc.actor, at: doc.at } });
    }
  }
  return out;
}
