import pLimit from 'p-limit';
import { PolicyError } from '../errors.js';
import { decodeDoc, keys, removedDocSchema, stageDocSchema, tagDocSchema } from '../core/remote-layout.js';
import type { VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import { writeTombstones } from './remote-gc.js';
import type { StoreSession } from './remote-session.js';

/** What removing a version from a remote did. */
export interface RemoteRemoval {
  remote: string;
  model: string;
  number: number;
  id: string;
  reason: string;
  /** False when the version was removed already (its first removal's event stands). */
  removed: boolean;
  /** The `remove` event recorded, or null when it was removed already. */
  event: string | null;
}

/**
 * Removes one version from a remote (docs/design.md §16): refuses (PolicyError, 5) while a
 * stage or a tag on the remote names it, then writes its tombstone and a `remove` event
 * with the reason. The number stays taken; the bytes go at the next `gc --remote`.
 */
export async function removeFromRemote(repo: Repository, session: StoreSession, version: VersionRow, req: { reason: string; actor: string; argv: readonly string[] }): Promise<RemoteRemoval> {
  const { remote } = session;
  for (const [kind, prefix] of [['stage', keys.stagesPrefix(version.model)], ['tag', keys.tagsPrefix(version.model)]] as const) {
    for await (const o of remote.list(prefix)) {
      const got = await remote.get(o.key);
      if (!got) continue;
      const holder = kind === 'stage' ? decodeDoc(stageDocSchema, got.body, o.key).version : decodeDoc(tagDocSchema, got.body, o.key).version;
      if (holder !== version.id) continue;
      const name = o.key.slice(prefix.length, -'.json'.length);
      throw new PolicyError(kind === 'stage' ? 'VERSION_HOLDS_STAGE' : 'VERSION_TAGGED', `${version.model}@v${version.number} ${kind === 'stage' ? 'holds the stage' : 'is tagged'} '${name}' on ${session.displayUrl}: it cannot be removed`, {
        hint: kind === 'stage'
          ? `move the stage first (\`modelctl promote <other> --to ${name} --push\` or \`modelctl rollback ${version.model} --stage ${name} --push\`), then remove it`
          : `delete the tag first (\`modelctl tag -d ${version.model}@${name}\`, then push), then remove it`,
        data: { kind, name },
      });
    }
  }
  const existing = await remote.get(keys.removed(version.model, version.number));
  if (existing) {
    const doc = decodeDoc(removedDocSchema, existing.body, keys.removed(version.model, version.number));
    return { remote: session.displayUrl, model: version.model, number: version.number, id: version.id, reason: doc.reason, removed: false, event: null };
  }
  const events = await writeTombstones(repo, session, [{ model: version.model, number: version.number, id: version.id, reason: req.reason }], req, pLimit(1));
  return { remote: session.displayUrl, model: version.model, number: version.number, id: version.id, reason: req.reason, removed: events.length > 0, event: events[0]?.id ?? null };
}
