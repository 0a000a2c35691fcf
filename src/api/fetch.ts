import pLimit from 'p-limit';
import { IntegrityError } from '../errors.js';
import { eventContentId, type AuditEvent } from '../core/events.js';
import { parseManifest, versionIdentity, type VersionManifest } from '../core/manifest.js';
import { assertModelName } from '../core/names.js';
import { decodeDoc, eventDocSchema, keys, numberDocSchema, parseModelKey, stageDocSchema, tagDocSchema } from '../core/remote-layout.js';
import type { ObjectInfo } from '../remote/remote.js';
import { appendEvent } from '../store/events-table.js';
import { writeTransaction } from '../store/index-db.js';
import { getRemoteRef, rememberRemoteVersion, setRemoteRef } from '../store/remote-tracking.js';
import { moveStage } from '../store/stages-table.js';
import { hasUnpushedRefMove, markEvents, unpushedRefMoves } from '../store/unpushed-events.js';
import { deleteTag, getTag, setTag } from '../store/tags-table.js';
import { ensureModel, getVersion, insertVersion, nextVersionNumber, renumberVersion } from '../store/version-records.js';
import { openRemoteSession, type RemoteSession } from './remote-session.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import { jobsOrDefault } from './transfer-progress.js';

export interface FetchOptions extends CommonOptions {
  /** One model; default: every model on the remote. */
  model?: string;
  remote?: string;
  jobs?: number;
}

export interface ModelFetch {
  model: string;
  newVersions: { number: number; id: string }[];
  renumbered: { id: string; from: number; to: number }[];
  tags: { tag: string; version: string | null }[];
  stages: { stage: string; version: string }[];
  events: number;
}

export interface FetchResult {
  remote: string;
  models: ModelFetch[];
  warnings: string[];
}

/**
 * Brings remote versions' metadata (manifests, numbers), tags, stages and events into the
 * index — no file bytes. Every document is checked (manifests against their ids, events
 * against theirs). The remote wins for refs it changed since the last fetch; a local move
 * not yet pushed is then superseded, and the result says so.
 */
export async function fetch(opts: FetchOptions = {}): Promise<FetchResult> {
  if (opts.model) assertModelName(opts.model);
  return withRepository(opts, async (repo) => {
    const session = await openRemoteSession(repo.settings, repo.root, opts.remote, { create: false, db: repo.db, env: repo.env });
    try {
      return await fetchInto(repo, session, opts.model, jobsOrDefault(opts.jobs));
    } finally {
      await session.remote.close();
    }
  });
}

/** The fetch itself, on an open repository and remote session (pull uses it too). */
export async function fetchInto(repo: Repository, session: RemoteSession, model: string | undefined, jobs: number): Promise<FetchResult> {
  const { remote } = session;
  const byModel = new Map<string, Map<string, ObjectInfo[]>>();
  for await (const o of remote.list(model ? keys.modelPrefix(model) : 'models/')) {
    const k = parseModelKey(o.key);
    if (!k || (model && k.model !== model)) continue;
    const kinds = byModel.get(k.model) ?? new Map<string, ObjectInfo[]>();
    kinds.set(k.kind, [...(kinds.get(k.kind) ?? []), o]);
    byModel.set(k.model, kinds);
  }
  const warnings: string[] = [];
  const models: ModelFetch[] = [];
  for (const [name, kinds] of [...byModel.entries()].sort()) {
    models.push(await fetchModel(repo, session, name, kinds, jobs, warnings));
  }
  return { remote: session.displayUrl, models, warnings };
}

async function fetchModel(
  repo: Repository,
  session: RemoteSession,
  model: string,
  kinds: Map<string, ObjectInfo[]>,
  jobs: number,
  warnings: string[],
): Promise<ModelFetch> {
  const { remote, remoteId } = session;
  const { db } = repo;
  const limit = pLimit(jobs);
  const out: ModelFetch = { model, newVersions: [], renumbered: [], tags: [], stages: [], events: 0 };

  // Numbers → ids (only numbers this remote has not told us about yet).
  const knownNumbers = new Set(
    (db
      .prepare('SELECT rv.number AS n FROM remote_versions rv JOIN versions v ON v.id = rv.version_id JOIN models m ON m.id = v.model_id WHERE rv.remote = ? AND m.name = ? AND rv.number IS NOT NULL')
      .all(remoteId, model) as { n: number }[]).map((r) => r.n),
  );
  const numberKeys = (kinds.get('numbers') ?? [])
    .map((o) => ({ o, n: Number(parseModelKey(o.key)!.name) }))
    .filter(({ n }) => Number.isSafeInteger(n) && n >= 1 && !knownNumbers.has(n))
    .sort((a, b) => a.n - b.n);
  const numbered = await Promise.all(
    numberKeys.map(({ o, n }) =>
      limit(async () => {
        const got = await remote.get(o.key);
        return got ? { n, id: decodeDoc(numberDocSchema, got.body, o.key).version } : null;
      }),
    ),
  );
  // Manifests of versions new to us, checked against their ids and stored first.
  const manifests = new Map<string, VersionManifest>();
  await Promise.all(
    numbered.map((e) =>
      limit(async () => {
        if (!e || getVersion(db, e.id)) return;
        const key = keys.version(e.id);
        const got = await remote.get(key);
        if (!got) throw new IntegrityError('REMOTE_MANIFEST_MISSING', `${key} is missing on the remote although number ${e.n} names it`, { hint: 'the remote is damaged; ask whoever pushed it to push again' });
        const m = parseManifest(got.body, e.id);
        if (m.model !== model) throw new IntegrityError('REMOTE_MODEL_MISMATCH', `${key} belongs to model '${m.model}', not '${model}'`);
        repo.store.writeManifest(e.id, got.body);
        manifests.set(e.id, m);
      }),
    ),
  );

  // Tags, stages and events: read what changed since the last fetch.
  const changed = async (o: ObjectInfo) => {
    const last = getRemoteRef(db, remoteId, o.key);
    if (last && last.etag === o.etag) return null;
    const got = await remote.get(o.key);
    return got ? { key: o.key, etag: got.etag, body: got.body } : null;
  };
  const tagDocs = (await Promise.all((kinds.get('tags') ?? []).map((o) => limit(() => changed(o))))).filter((x) => x !== null);
  const stageDocs = (await Promise.all((kinds.get('stages') ?? []).map((o) => limit(() => changed(o))))).filter((x) => x !== null);
  const knownEvent = db.prepare('SELECT 1 FROM events WHERE id = ?');
  const eventKeys = (kinds.get('events') ?? [])
    .filter((o) => {
      const id = /([0-9a-f]{64})$/.exec(parseModelKey(o.key)!.name)?.[1];
      return id !== undefined && !knownEvent.get(id);
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const events = await Promise.all(
    eventKeys.map((o) =>
      limit(async () => {
        const got = await remote.get(o.key);
        if (!got) return null;
        const e = decodeDoc(eventDocSchema, got.body, o.key) as AuditEvent;
        if (eventContentId(e) !== e.id || !o.key.endsWith(`-${e.id}.json`) || e.model !== model) {
          throw new IntegrityError('REMOTE_EVENT_INVALID', `${o.key} on the remote does not hash to its id`, { hint: 'the remote holds a crafted or corrupted event' });
        }
        return e;
      }),
    ),
  );

  writeTransaction(db, () => {
    const modelId = ensureModel(db, model);
    for (const e of numbered) {
      if (!e) continue;
      const local = getVersion(db, e.id);
      if (local) {
        if (local.number !== e.n) out.renumbered.push(...renumberVersion(db, e.id, e.n));
      } else {
        const m = manifests.get(e.id)!;
        // A local version not yet pushed may hold this number: it moves up (push renumbers the same way).
        const holder = db.prepare('SELECT id FROM versions WHERE model_id = ? AND number = ?').get(modelId, e.n) as { id: string } | undefined;
        if (holder) {
          const to = nextVersionNumber(db, modelId);
          db.prepare('UPDATE versions SET number = ? WHERE id = ?').run(to, holder.id);
          out.renumbered.push({ id: holder.id, from: e.n, to });
        }
        insertVersion(db, { id: e.id, manifest: m, number: e.n, identity: versionIdentity(m) });
        out.newVersions.push({ number: e.n, id: e.id });
      }
      rememberRemoteVersion(db, remoteId, e.id, e.n);
    }
    const appended: AuditEvent[] = [];
    for (const e of events) {
      if (e && appendEvent(db, e, { pushed: true })) {
        out.events++;
        appended.push(e);
      }
    }
    for (const t of tagDocs) {
      const name = parseModelKey(t.key)!.name;
      const doc = decodeDoc(tagDocSchema, t.body, t.key);
      setRemoteRef(db, remoteId, t.key, { etag: t.etag, value: doc });
      if (!getVersion(db, doc.version)) {
        warnings.push(`tag ${model}@${name} names version ${doc.version.slice(0, 12)}, which the remote has no number for; skipped`);
        continue;
      }
      const local = getTag(db, modelId, name);
      if (local?.versionId === doc.version) continue;
      if (local && hasUnpushedRefMove(db, model, 'tag', name)) {
        warnings.push(`tag ${model}@${name} was moved locally and on the remote; kept the local one (push --force to publish it)`);
        continue;
      }
      setTag(db, { modelId, model, name, versionId: doc.version, message: doc.message, actor: doc.actor, force: true });
      out.tags.push({ tag: name, version: doc.version });
    }
    // Tags deleted on the remote since we last saw them.
    const listedTags = new Set((kinds.get('tags') ?? []).map((o) => o.key));
    for (const r of db.prepare("SELECT key FROM remote_refs WHERE remote = ? AND key LIKE ? AND value_json IS NOT NULL").all(remoteId, `${keys.tagsPrefix(model)}%`) as { key: string }[]) {
      if (listedTags.has(r.key)) continue;
      const name = parseModelKey(r.key)?.name;
      setRemoteRef(db, remoteId, r.key, { etag: null, value: null });
      if (name && getTag(db, modelId, name) && !hasUnpushedRefMove(db, model, 'tag', name)) {
        deleteTag(db, modelId, model, name);
        out.tags.push({ tag: name, version: null });
      }
    }
    for (const s of stageDocs) {
      const stage = parseModelKey(s.key)!.name;
      const doc = decodeDoc(stageDocSchema, s.body, s.key);
      setRemoteRef(db, remoteId, s.key, { etag: s.etag, value: doc });
      if (!getVersion(db, doc.version)) {
        warnings.push(`stage ${model}@${stage} names version ${doc.version.slice(0, 12)}, unknown here; skipped`);
        continue;
      }
      const holder = db.prepare('SELECT version_id AS v FROM stages WHERE model_id = ? AND stage = ?').get(modelId, stage) as { v: string } | undefined;
      if (holder?.v === doc.version) continue;
      if (hasUnpushedRefMove(db, model, 'stage', stage)) {
        warnings.push(`stage ${model}@${stage} was moved on the remote (by ${doc.actor}); your unpushed local move was superseded`);
        markEvents(db, unpushedRefMoves(db, model, 'stage').get(`${model}\0${stage}`)?.events.map((e) => e.id) ?? [], 2);
      }
      // The remote may have moved the stage several times since we last looked: record each
      // move its events explain, in order, so that rollback here walks the same chain as
      // there (a single jump to the current holder would skip the versions in between).
      // Follow from → to links (event times from different hosts need not be in order).
      let current = holder?.v ?? null;
      const moves = appended.filter((e) => (e.action === 'promote' || e.action === 'rollback') && e.data.stage === stage);
      for (let next = moves.find((e) => e.from === current); next; next = moves.find((e) => e.from === current)) {
        moves.splice(moves.indexOf(next), 1);
        if (next.to === null || next.to === current || !getVersion(db, next.to)) break;
        moveStage(db, { modelId, stage, versionId: next.to, eventId: next.id, at: next.at });
        current = next.to;
      }
      if (current !== doc.version) moveStage(db, { modelId, stage, versionId: doc.version, eventId: doc.event ?? '', at: doc.at });
      out.stages.push({ stage, version: doc.version });
    }
  });
  return out;
}
