import { decodeDoc, keys, removedDocSchema, type RemovedDoc } from '../core/remote-layout.js';
import { NotFoundError } from '../errors.js';
import { remoteVersionNumber } from '../store/remote-tracking.js';
import { getVersion } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { RefName } from './ref-cas.js';
import type { StoreSession } from './remote-session.js';

/**
 * A tag or stage may not name a version removed from the remote (its tombstone,
 * docs/design.md §16): every reader would follow it to a version no pull can bring
 * (README, "Deleting on a shared remote").
 */

/** The tombstone on this remote of the version `versionId`, read now; null when it was not removed there. */
export async function readTombstone(repo: Repository, session: StoreSession, versionId: string): Promise<RemovedDoc | null> {
  const v = getVersion(repo.db, versionId);
  if (!v) return null;
  const number = remoteVersionNumber(repo.db, session.remoteId, versionId) ?? v.number;
  if (number === null) return null;
  const key = keys.removed(v.model, number);
  const got = await session.remote.get(key);
  if (!got) return null;
  try {
    const doc = decodeDoc(removedDocSchema, got.body, key);
    return doc.version === versionId ? doc : null;
  } catch {
    return null; // a tombstone that fails its check says nothing trustworthy
  }
}

/**
 * NotFoundError `VERSION_REMOVED_ON_REMOTE` (3): `ref` cannot be published naming
 * `model@v<number>`, which `remote` has removed — who removed it, when and why.
 */
export function removedTarget(remote: string, ref: RefName, gone: RemovedDoc): NotFoundError {
  const what = ref.kind === 'tag' ? `tag '${ref.name}'` : `stage '${ref.name}'`;
  const version = `${ref.model}@v${gone.number}`;
  return new NotFoundError('VERSION_REMOVED_ON_REMOTE', `${what} of ${ref.model} cannot name ${version} on ${remote}: ${gone.actor} removed it there at ${gone.at} (reason: ${gone.reason}); nothing was changed there`, {
    hint: `pick another version (\`modelctl log ${ref.model}\`) and move the ${ref.kind} there`,
    data: { remote, kind: ref.kind, model: ref.model, name: ref.name, number: gone.number, id: gone.version, reason: gone.reason, actor: gone.actor, at: gone.at },
  });
}

/** Throws removedTarget when the version `versionId` was removed from this remote. */
export async function assertTargetNotRemoved(repo: Repository, session: StoreSession, ref: RefName, versionId: string): Promise<void> {
  const gone = await readTombstone(repo, session, versionId);
  if (gone) throw removedTarget(session.displayUrl, ref, gone);
}
