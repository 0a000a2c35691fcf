import { barrier } from '../store/test-barrier.js';
import { UsageError } from '../errors.js';
import { buildEvent, type AuditEvent } from '../core/events.js';
import { assertModelName, assertNoReservedCaseVariant, assertTagName } from '../core/names.js';
import { parseRef } from '../core/refs.js';
import { appendEvent } from '../store/events-table.js';
import { getEventRecord, type EventRecord } from '../store/history-queries.js';
import { writeTransaction } from '../store/index-db.js';
import { requireModel } from '../store/resolve-ref.js';
import { assertTagFree, deleteTag as deleteTagRow, getTag, listTags, setTag } from '../store/tags-table.js';
import { getVersion, type VersionRow } from '../store/version-records.js';
import { remoteVersionNumber } from '../store/remote-tracking.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import type { RemoteTarget } from '../sync/remote-session.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import { SHORT_ID_LENGTH, summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface TagOptions extends CommonOptions, RemoteTarget {
  /** The version to tag (docs/design.md §2 reference). */
  ref: string;
  name: string;
  message?: string;
  /** Move the tag if it exists on another version (recorded as a 'tag-move' event). */
  force?: boolean;
  argv?: string[];
  /**
   * Make the tag on the remote at once: create-only, or with `force` compare-and-swap,
   * against what this repository last fetched (docs/design.md §7). If anyone made or moved
   * it since, nothing changes anywhere (ConflictError, exit 4).
   */
  push?: boolean;
}

/** What `tag` did. The --json shape. */
export interface TagResult {
  /** 'tag' (created), 'tag-move' (moved with --force) or 'none' (already on that version). */
  action: 'tag' | 'tag-move' | 'none';
  changed: boolean;
  model: string;
  tag: string;
  version: VersionSummary;
  /** The version the tag pointed at before a move; null otherwise. */
  previous: VersionSummary | null;
  event: EventRecord | null;
  /** With --push: what the remote side wants said (a store that ignores conditional writes). */
  warnings?: string[];
}

/**
 * Tags a version. Tags are create-only: a tag on another version is a ConflictError (4)
 * unless `force`, and a forced move is its own 'tag-move' event. Tagging the version the
 * tag already names changes nothing. Invalid name (v<N>, a stage, `latest`) → UsageError (2).
 * With `push` the remote's tag is made first (naming the event), then the local one; a
 * conflict on either side changes nothing on both.
 */
export async function tag(opts: TagOptions): Promise<TagResult> {
  return withRepository(opts, async (repo) => {
    const { db } = repo;
    assertTagName(opts.name, repo.settings.stages);
    const target = resolveIn(repo, opts.ref);
    const modelId = requireModel(db, target.model);
    const before = getTag(db, modelId, opts.name)?.versionId ?? null;
    // A tag that exists already (made before the rule, or fetched) can still be moved or re-pushed.
    if (before === null) assertNoReservedCaseVariant(opts.name, repo.settings.stages);
    if (before !== null && before !== target.id && !opts.force) assertTagFree(db, modelId, target.model, opts.name);
    const event = before === target.id ? null : await tagEvent(repo, target, opts, before);
    if (!opts.push) return recordTag(repo, target, opts, before, event);
    // The sync layer (and the remote documents' validator) only for --push: `tags` and a
    // local tag start without it.
    const { withRemoteSession } = await import('../sync/remote-session.js');
    return withRemoteSession(repo, opts, { create: true, probe: true }, async (session) => {
      const warnings = session.concurrencyCaveat ? [session.concurrencyCaveat] : [];
      const publication = await session.protocol.openRefPublication(repo, { kind: 'tag', model: target.model, name: opts.name }, target.id, opts.argv ?? []);
      if (!event) {
        // Tagged here already: publish that (unpushed) local tag unless the remote agrees.
        if (publication.remoteVersion !== target.id) await session.protocol.push(repo, { refs: [`${target.model}@${target.id}`], argv: opts.argv });
        return { ...recordTag(repo, target, opts, before, null), warnings };
      }
      await publication.write(event);
      barrier('ref-move-written'); // the crash tests kill here: on the remote, not yet recorded
      let result: TagResult;
      try {
        result = recordTag(repo, target, opts, before, event);
      } catch (err) {
        await publication.undo();
        throw err;
      }
      barrier('ref-move-recorded'); // …and here: recorded, its event not yet published
      await publication.finish(event);
      return { ...result, warnings };
    });
  });
}

/** The event of tagging `target` (a 'tag', or a 'tag-move' away from `before`). */
async function tagEvent(repo: Repository, target: VersionRow, opts: TagOptions, before: string | null): Promise<AuditEvent> {
  return buildEvent({
    actor: await resolveActor(repo.root),
    host: hostName(),
    action: before === null ? 'tag' : 'tag-move',
    model: target.model,
    version: target.id,
    from: before,
    to: target.id,
    reason: opts.message ?? null,
    argv: opts.argv ?? [],
    data: { tag: opts.name, number: target.number, ...(before ? { fromNumber: getVersion(repo.db, before)?.number ?? null } : {}) },
  });
}

/**
 * Points the tag at `target` and appends `event` in one transaction (nothing when `event`
 * is null: the tag names it already). The tag must still point where it did when the event
 * was built (`before`), else ConflictError (4).
 */
function recordTag(repo: Repository, target: VersionRow, opts: TagOptions, before: string | null, event: AuditEvent | null): TagResult {
  const { db } = repo;
  const modelId = requireModel(db, target.model);
  if (event) {
    writeTransaction(db, () => {
      if ((getTag(db, modelId, opts.name)?.versionId ?? null) !== before) assertTagFree(db, modelId, target.model, opts.name);
      setTag(db, { modelId, model: target.model, name: opts.name, versionId: target.id, message: opts.message ?? null, actor: event.actor, force: true });
      appendEvent(db, event);
    });
  }
  const previousRow = event?.action === 'tag-move' && before ? getVersion(db, before) : null;
  return {
    action: event ? (event.action as 'tag' | 'tag-move') : 'none',
    changed: event !== null,
    model: target.model,
    tag: opts.name,
    version: summarizeVersion(db, target),
    previous: previousRow ? summarizeVersion(db, previousRow) : null,
    event: event ? getEventRecord(db, event.id) : null,
  };
}

export interface DeleteTagOptions extends CommonOptions, RemoteTarget {
  /** `<model>@<tag>`. */
  ref: string;
  argv?: string[];
  /** Also delete it on the remote now (compare-and-swap against what was last fetched). */
  push?: boolean;
}

/** What `tag -d` did. The --json shape. */
export interface DeleteTagResult {
  action: 'tag-delete';
  model: string;
  tag: string;
  /** The version the tag pointed at. */
  version: VersionSummary;
  event: EventRecord | null;
  /**
   * With --push: `deleted` on the remote, or `not-there` (the remote holds no such tag, or not
   * the version: nothing to delete there). A tag someone moved there since the last fetch is
   * exit 4 (PUSH_CONFLICT) instead.
   */
  remote?: { url: string; status: 'deleted' | 'not-there' };
  warnings?: string[];
}

/**
 * Deletes a tag (a 'tag-delete' event); no such tag → NotFoundError (3). With `push`, the
 * remote is opened first (a bad remote changes nothing here), the tag is deleted here, and
 * the delete is published as `push` publishes one (README, "Working in a team"): only while
 * the remote's tag is the one last fetched, else exit 4 with the local delete kept and its
 * event held, as after `tag -d` and a conflicting `push`.
 */
export async function deleteTag(opts: DeleteTagOptions): Promise<DeleteTagResult> {
  const parsed = parseRef(opts.ref);
  if (parsed.selector.kind !== 'name') {
    throw new UsageError('INVALID_REF', `'${opts.ref}' does not name a tag`, { hint: 'write tag -d <model>@<tag>, e.g. modelctl tag -d fraud@baseline' });
  }
  const name = parsed.selector.name;
  return withRepository(opts, async (repo) => {
    // No such tag (or model) is exit 3 from the local half, before any remote is contacted.
    if (!opts.push || getTag(repo.db, requireModel(repo.db, parsed.model), name) === null) return recordTagDelete(repo, parsed.model, name, opts);
    const { withRemoteSession } = await import('../sync/remote-session.js');
    return withRemoteSession(repo, opts, { create: false, probe: true }, async (session) => {
      const result = await recordTagDelete(repo, parsed.model, name, opts);
      const warnings = session.concurrencyCaveat ? [session.concurrencyCaveat] : [];
      const url = session.displayUrl;
      // The remote cannot hold this tag as published from here without the version.
      if (remoteVersionNumber(repo.db, session.remoteId, result.version.id) === undefined) return { ...result, remote: { url, status: 'not-there' as const }, warnings };
      const pushed = await session.protocol.push(repo, { refs: [`${parsed.model}@${result.version.id}`], argv: opts.argv });
      const mine = pushed.tags.find((t) => t.model === parsed.model && t.tag === name);
      return { ...result, remote: { url, status: mine?.status === 'deleted' ? ('deleted' as const) : ('not-there' as const) }, warnings: [...new Set([...warnings, ...pushed.warnings])] };
    });
  });
}

/** The local half of `tag -d`: the row gone and its 'tag-delete' event, in one transaction. */
async function recordTagDelete(repo: Repository, model: string, name: string, opts: DeleteTagOptions): Promise<DeleteTagResult> {
  const { db } = repo;
  const modelId = requireModel(db, model);
  const actor = await resolveActor(repo.root);
  const host = hostName();
  const { versionId, eventId } = writeTransaction(db, () => {
    const removed = deleteTagRow(db, modelId, model, name);
    const event = buildEvent({
      actor,
      host,
      action: 'tag-delete',
      model,
      version: removed,
      from: removed,
      to: null,
      reason: null,
      argv: opts.argv ?? [],
      data: { tag: name, number: getVersion(db, removed)?.number ?? null },
    });
    appendEvent(db, event);
    return { versionId: removed, eventId: event.id };
  });
  const row = getVersion(db, versionId);
  if (!row) throw new Error(`BUG: tagged version ${versionId} is not in the index`);
  return { action: 'tag-delete', model, tag: name, version: summarizeVersion(db, row), event: getEventRecord(db, eventId) };
}

/** One tag as `tags` lists it. */
export interface TagListing {
  name: string;
  version: string;
  shortId: string;
  number: number | null;
  /** `<model>@v<N>` of the tagged version. */
  ref: string | null;
  message: string | null;
  createdAt: string;
  actor: string;
}

export interface TagsResult {
  model: string;
  tags: TagListing[];
}

/** The tags of a model, by name; unknown model → NotFoundError (3). */
export async function tags(opts: CommonOptions & { model: string }): Promise<TagsResult> {
  assertModelName(opts.model);
  return withRepository(opts, (repo) => {
    const modelId = requireModel(repo.db, opts.model);
    return {
      model: opts.model,
      tags: listTags(repo.db, modelId).map((t) => {
        const v = getVersion(repo.db, t.versionId);
        return {
          name: t.name,
          version: t.versionId,
          shortId: t.versionId.slice(0, SHORT_ID_LENGTH),
          number: v?.number ?? null,
          ref: v ? `${v.model}@v${v.number}` : null,
          message: t.message,
          createdAt: t.createdAt,
          actor: t.actor,
        };
      }),
    };
  });
}
