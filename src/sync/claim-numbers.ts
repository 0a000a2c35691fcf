import { decodeDoc, encodeDoc, keys, numberDocSchema } from '../core/remote-layout.js';
import { isPreconditionFailed, type Remote } from '../remote/remote.js';
import { writeTransaction } from '../store/index-db.js';
import { rememberRemoteVersion, remoteVersionNumber } from '../store/remote-tracking.js';
import { getVersion, type VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { StoreSession } from './remote-session.js';
import { takeRemoteNumber, type RenumberContext, type Renumbered } from './renumber.js';

/** A version as a push left it on the remote. */
export interface PushedVersion {
  ref: string;
  id: string;
  number: number;
  /** `removed`: the remote removed it (its tombstone); not sent again. */
  status: 'uploaded' | 'already-there' | 'removed';
  /** On `removed`: who removed it there, when and why. */
  removal?: { reason: string; actor: string; at: string };
}

/**
 * Claims a number for `id`: from `start` upward, the first number that is free (created
 * create-only) or already holds this very version (an earlier, interrupted push).
 */
export async function claimNumber(remote: Remote, model: string, id: string, start: number): Promise<number> {
  for (let n = start; ; ) {
    const key = keys.number(model, n);
    const got = await remote.get(key);
    if (got) {
      if (decodeDoc(numberDocSchema, got.body, key).version === id) return n;
      n++;
      continue;
    }
    try {
      await remote.put(key, encodeDoc({ version: id }), { condition: { ifAbsent: true } });
      return n;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      // Someone claimed it between our read and write: read it again (it may be ours).
    }
  }
}

/**
 * Gives every version its number on the remote (docs/design.md §7, phase 5), in ascending
 * order per model, after its manifest is there. A version the remote gave another number
 * is renumbered locally through the one renumbering path (with its `renumber` event).
 */
export async function claimNumbers(
  repo: Repository,
  session: StoreSession,
  versions: readonly VersionRow[],
  alreadyThere: ReadonlySet<string>,
  ctx: RenumberContext,
): Promise<{ versions: PushedVersion[]; renumbered: Renumbered[] }> {
  const out: PushedVersion[] = [];
  const renumbered: Renumbered[] = [];
  for (const v0 of versions) {
    const v = getVersion(repo.db, v0.id)!; // re-read: an earlier claim may have bumped it
    const known = remoteVersionNumber(repo.db, session.remoteId, v.id);
    if (known !== undefined && known !== null) {
      out.push({ ref: `${v.model}@v${v.number}`, id: v.id, number: v.number, status: 'already-there' });
      continue;
    }
    const number = await claimNumber(session.remote, v.model, v.id, v.number);
    writeTransaction(repo.db, () => {
      if (number !== v.number) renumbered.push(...takeRemoteNumber(repo.db, v.model, v.id, number, ctx));
      rememberRemoteVersion(repo.db, session.remoteId, v.id, number);
    });
    out.push({ ref: `${v.model}@v${number}`, id: v.id, number, status: alreadyThere.has(v.id) ? 'already-there' : 'uploaded' });
  }
  return { versions: out, renumbered };
}
