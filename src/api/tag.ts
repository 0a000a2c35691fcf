import { UsageError } from '../errors.js';
import { buildEvent } from '../core/events.js';
import { assertModelName, assertTagName } from '../core/names.js';
import { parseRef } from '../core/refs.js';
import { appendEvent } from '../store/events-table.js';
import { getEventRecord, type EventRecord } from '../store/history-queries.js';
import { writeTransaction } from '../store/index-db.js';
import { requireModel, resolveRef } from '../store/resolve-ref.js';
import { deleteTag as deleteTagRow, getTag, listTags, setTag } from '../store/tags-table.js';
import { getVersion } from '../store/version-records.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import { withRepository, type CommonOptions } from './repository.js';
import { SHORT_ID_LENGTH, summarizeVersion, type VersionSummary } from './views.js';

export interface TagOptions extends CommonOptions {
  /** The version to tag (docs/design.md §2 reference). */
  ref: string;
  name: string;
  message?: string;
  /** Move the tag if it exists on another version (recorded as a 'tag-move' event). */
  force?: boolean;
  argv?: string[];
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
}

/**
 * Tags a version. Tags are create-only: a tag on another version is a ConflictError (4)
 * unless `force`, and a forced move is its own 'tag-move' event. Tagging the version the
 * tag already names changes nothing. Invalid name (v<N>, a stage, `latest`) → UsageError (2).
 */
export async function tag(opts: TagOptions): Promise<TagResult> {
  return withRepository(opts, async (repo) => {
    const { db } = repo;
    assertTagName(opts.name, repo.settings.stages);
    const target = resolveRef(db, opts.ref);
    const modelId = requireModel(db, target.model);
    const actor = await resolveActor(repo.root);
    const host = hostName();
    const argv = opts.argv ?? [];
    const outcome = writeTransaction(db, () => {
      const before = getTag(db, modelId, opts.name)?.versionId ?? null;
      if (before === target.id) return { action: 'none' as const, before, eventId: null };
      setTag(db, { modelId, model: target.model, name: opts.name, versionId: target.id, message: opts.message ?? null, actor, force: !!opts.force });
      const action = before === null ? ('tag' as const) : ('tag-move' as const);
      const event = buildEvent({
        actor,
        host,
        action,
        model: target.model,
        version: target.id,
        from: before,
        to: target.id,
        reason: opts.message ?? null,
        argv,
        data: { tag: opts.name, number: target.number, ...(before ? { fromNumber: getVersion(db, before)?.number ?? null } : {}) },
      });
      appendEvent(db, event);
      return { action, before, eventId: event.id };
    });
    const previousRow = outcome.action === 'tag-move' && outcome.before ? getVersion(db, outcome.before) : null;
    return {
      action: outcome.action,
      changed: outcome.action !== 'none',
      model: target.model,
      tag: opts.name,
      version: summarizeVersion(db, target),
      previous: previousRow ? summarizeVersion(db, previousRow) : null,
      event: outcome.eventId ? getEventRecord(db, outcome.eventId) : null,
    };
  });
}

export interface DeleteTagOptions extends CommonOptions {
  /** `<model>@<tag>`. */
  ref: string;
  argv?: string[];
}

/** What `tag -d` did. The --json shape. */
export interface DeleteTagResult {
  action: 'tag-delete';
  model: string;
  tag: string;
  /** The version the tag pointed at. */
  version: VersionSummary;
  event: EventRecord | null;
}

/** Deletes a tag (a 'tag-delete' event); no such tag → NotFoundError (3). */
export async function deleteTag(opts: DeleteTagOptions): Promise<DeleteTagResult> {
  const parsed = parseRef(opts.ref);
  if (parsed.selector.kind !== 'name') {
    throw new UsageError('INVALID_REF', `'${opts.ref}' does not name a tag`, { hint: 'write tag -d <model>@<tag>, e.g. modelctl tag -d fraud@baseline' });
  }
  const name = parsed.selector.name;
  return withRepository(opts, async (repo) => {
    const { db } = repo;
    const modelId = requireModel(db, parsed.model);
    const actor = await resolveActor(repo.root);
    const host = hostName();
    const { versionId, eventId } = writeTransaction(db, () => {
      const removed = deleteTagRow(db, modelId, parsed.model, name);
      const event = buildEvent({
        actor,
        host,
        action: 'tag-delete',
        model: parsed.model,
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
    return { action: 'tag-delete', model: parsed.model, tag: name, version: summarizeVersion(db, row), event: getEventRecord(db, eventId) };
  });
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
