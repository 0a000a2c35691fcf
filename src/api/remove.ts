import { NotFoundError, UsageError } from '../errors.js';
import { parseRef } from '../core/refs.js';
import { remoteVersionNumber } from '../store/remote-tracking.js';
import { fetchInto, resolveFetchedRef } from '../sync/fetch.js';
import { removeFromRemote, type RemoteRemoval } from '../sync/remote-remove.js';
import { storeSessionOf, withRemoteSession } from '../sync/remote-session.js';
import { resolveActor } from '../workspace/identity.js';
import { withRepository, type CommonOptions } from './repository.js';

export type { RemoteRemoval } from '../sync/remote-remove.js';

export interface RemoveOptions extends CommonOptions {
  ref: string;
  /** A configured remote name or URL. */
  remote: string;
  /** Why: recorded in the `remove` event and the tombstone. */
  reason: string;
  argv?: string[];
  /** Asked before removing (the CLI's prompt); absent: go ahead. */
  confirm?: (version: { ref: string; id: string }) => Promise<boolean>;
}

/**
 * Removes a version from a remote, with its reason in the audit trail (docs/design.md §16):
 * fetches the model, resolves the reference, refuses a version holding a stage or a tag
 * (exit 5), and writes its tombstone and `remove` event. Its number is never given again.
 */
export async function remove(opts: RemoveOptions): Promise<RemoteRemoval> {
  if (!opts.reason || opts.reason.trim() === '') throw new UsageError('REASON_REQUIRED', 'rm --remote needs --reason <text>: it is recorded in the audit trail');
  const { model } = parseRef(opts.ref);
  return withRepository(opts, async (repo) => {
    const actor = await resolveActor(repo.root);
    return withRemoteSession(repo, { remote: opts.remote }, { create: false, probe: true }, async (opened) => {
      const session = storeSessionOf(opened, '`rm`');
      const fetched = await fetchInto(repo, session, { model, argv: opts.argv });
      const version = resolveFetchedRef(repo, opts.ref, fetched);
      const number = remoteVersionNumber(repo.db, session.remoteId, version.id);
      if (number === undefined || number === null) {
        throw new NotFoundError('NOT_ON_REMOTE', `${version.model}@v${version.number} is not on ${session.displayUrl} (or was removed there already)`, {
          hint: `list what the remote holds with \`modelctl fetch ${model} --remote ${opts.remote}\` and \`modelctl log ${model}\``,
        });
      }
      if (opts.confirm && !(await opts.confirm({ ref: `${version.model}@v${number}`, id: version.id }))) {
        const { ConflictError } = await import('../errors.js');
        throw new ConflictError('ABORTED', 'rm aborted at the confirmation; nothing was removed');
      }
      return removeFromRemote(repo, session, { ...version, number }, { reason: opts.reason, actor, argv: opts.argv ?? [] });
    });
  });
}
