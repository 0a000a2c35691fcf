import { PolicyError } from '../errors.js';
import { decodeDoc, keys, removedDocSchema, stageDocSchema, tagDocSchema } from '../core/remote-layout.js';
import { barrier } from '../store/test-barrier.js';
import type { VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { StoreSession } from './remote-session.js';
import { publishTombstone, putTombstone } from './tombstones.js';

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
  /** What the remote side wants said: a store that ignores conditional writes. */
  warnings: string[];
}

/**
 * Removes one version from a remote (docs/design.md §16): refuses (PolicyError, 5) while a
 * stage or a tag on the remote names it, then writes its tombstone, looks at the stages and
 * tags again, and only then publishes a `remove` event with the reason. A stage or tag
 * moved onto the version between the first look and the tombstone makes it take the
 * tombstone back and refuse the same way: a move writes its ref and then looks for the
 * tombstone, so of the two at least one sees the other (README, "Deleting on a shared
 * remote"). The number stays taken; the bytes go at the next `gc --remote`.
 */
export async function removeFromRemote(repo: Repository, session: StoreSession, version: VersionRow, req: { reason: string; actor: string; argv: readonly string[] }): Promise<RemoteRemoval> {
  const { remote } = session;
  // The tombstone is written create-only; a store that ignores that cannot tell two removals
  // of the same version at the same moment apart (docs/design.md §16).
  const warnings = session.conditionalWrites ? [] : [`${session.displayUrl} ignores conditional writes: a removal of the same version by someone else at the same moment is not detected (both record a remove event, and the tombstone keeps the last reason)`];
  const first = await refNaming(session, version);
  if (first) throw holdsRef(session, version, first, 'before');
  const existing = await remote.get(keys.removed(version.model, version.number));
  if (existing) {
    const doc = decodeDoc(removedDocSchema, existing.body, keys.removed(version.model, version.number));
    return { remote: session.displayUrl, model: version.model, number: version.number, id: version.id, reason: doc.reason, removed: false, event: null, warnings };
  }
  barrier('rm-checked'); // the race tests move a stage onto the version here
  const written = await putTombstone(session, { model: version.model, number: version.number, id: version.id, reason: req.reason }, req);
  if (written) {
    const raced = await refNaming(session, version);
    if (raced) {
      await remote.delete(written.key);
      throw holdsRef(session, version, raced, 'while');
    }
    await publishTombstone(repo, session, written);
  }
  return { remote: session.displayUrl, model: version.model, number: version.number, id: version.id, reason: req.reason, removed: written !== null, event: written?.event.id ?? null, warnings };
}

/** The first stage (then tag) on the remote that names `version`, read now; null when none does. */
async function refNaming(session: StoreSession, version: VersionRow): Promise<{ kind: 'stage' | 'tag'; name: string } | null> {
  const { remote } = session;
  for (const [kind, prefix] of [['stage', keys.stagesPrefix(version.model)], ['tag', keys.tagsPrefix(version.model)]] as const) {
    for await (const o of remote.list(prefix)) {
      const got = await remote.get(o.key);
      if (!got) continue;
      const holder = kind === 'stage' ? decodeDoc(stageDocSchema, got.body, o.key).version : decodeDoc(tagDocSchema, got.body, o.key).version;
      if (holder === version.id) return { kind, name: o.key.slice(prefix.length, -'.json'.length) };
    }
  }
  return null;
}

/** PolicyError (5): the version holds a stage or is tagged on the remote — found `before` writing the tombstone, or `while` rm ran (the tombstone taken back). */
function holdsRef(session: StoreSession, version: VersionRow, ref: { kind: 'stage' | 'tag'; name: string }, when: 'before' | 'while'): PolicyError {
  const { kind, name } = ref;
  const what = kind === 'stage' ? `holds the stage '${name}'` : `is tagged '${name}'`;
  const why = when === 'before' ? 'it cannot be removed' : `someone moved it there while this command ran; nothing was removed`;
  return new PolicyError(kind === 'stage' ? 'VERSION_HOLDS_STAGE' : 'VERSION_TAGGED', `${version.model}@v${version.number} ${what} on ${session.displayUrl}: ${why}`, {
    hint: kind === 'stage'
      ? `move the stage first (\`modelctl promote <other> --to ${name} --push\` or \`modelctl rollback ${version.model} --stage ${name} --push\`), then remove it`
      : `delete the tag first (\`modelctl tag -d ${version.model}@${name}\`, then push), then remove it`,
    data: { kind, name },
  });
}
