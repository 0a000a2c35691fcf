import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';
import { eventContentId, eventPayload, type AuditEvent } from '../core/events.js';
import { decodeDoc, eventDocSchema, keys, parseModelKey, stageDocSchema } from '../core/remote-layout.js';
import { unvouchedMoves, type StageMoveEvent } from '../core/stage-chain.js';
import { localEventCopies } from '../store/event-copies.js';
import type { Repository } from '../workspace/repository.js';
import { listModels } from './fetch-read.js';
import type { StoreSession } from './remote-session.js';

/**
 * `history --verify --remote` (docs/design.md §8): the remote's copies of the audit events
 * compared with this repository's, and every stage move checked against the remote's stage
 * documents. Reads only; changes nothing here or there.
 */

/** One way the remote's events differ from what this repository holds or what its stage documents say. */
export interface EventDifference {
  kind:
    /** The index records the event as on the remote, and the remote has no copy. */
    | 'missing-on-remote'
    /** The remote's copy is not byte for byte the event this repository holds (or does not hash to its id). */
    | 'altered-on-remote'
    /** A copy on the remote that is not a valid event (bad JSON, wrong model, id not its content hash). */
    | 'invalid-on-remote'
    /** On the remote, not here (yet): `fetch` brings it. Not an error by itself. */
    | 'only-on-remote'
    /** A promote or rollback no stage document's chain of moves vouches for. */
    | 'stage-mismatch'
    /** A stage document names an event the remote does not hold: its moves cannot be judged. */
    | 'stage-event-missing';
  model: string;
  /** Event id (for stage-event-missing: the event the document names). */
  id: string;
  /** The remote key concerned, when there is one. */
  key: string | null;
  detail: string;
}

export interface EventAudit {
  remote: string;
  /** Events compared: held here, and found on the remote. */
  local: number;
  remoteEvents: number;
  differences: EventDifference[];
}

/** Compares the remote's events (of `model`, or of every model) with the local ones; see EventDifference. */
export async function auditRemoteEvents(repo: Repository, session: StoreSession, model: string | undefined, jobs = 8): Promise<EventAudit> {
  const limit = pLimit(jobs);
  const listing = await listModels(session, model);
  const local = localEventCopies(repo.db, session.remoteId, model);
  const models = new Set<string>([...listing.keys(), ...local.map((e) => e.model as string)]);
  const differences: EventDifference[] = [];
  let remoteEvents = 0;
  for (const name of [...models].sort()) {
    const kinds = listing.get(name) ?? new Map();
    const here = new Map(local.filter((e) => e.model === name).map((e) => [e.id, e]));
    const found = await readRemoteEvents(session, name, kinds.get('events') ?? [], limit, differences);
    remoteEvents += found.size;
    for (const [id, copy] of found) {
      const mine = here.get(id);
      if (!mine) differences.push({ kind: 'only-on-remote', model: name, id, key: copy.key, detail: `${copy.event.action} by ${copy.event.actor} at ${copy.event.at}: not fetched here yet` });
      else if (mine.payload !== copy.body) differences.push({ kind: 'altered-on-remote', model: name, id, key: copy.key, detail: 'the remote copy differs from the event held here' });
    }
    for (const e of here.values()) {
      if (e.onRemote && !found.has(e.id)) differences.push({ kind: 'missing-on-remote', model: name, id: e.id, key: null, detail: `${e.action}: published there or fetched from there, now gone` });
    }
    // Stage moves, the remote's and ours, against the remote's stage documents.
    const docs = await Promise.all(
      ((kinds.get('stages') ?? []) as { key: string }[]).map((o) =>
        limit(async () => {
          const got = await session.remote.get(o.key);
          if (!got) return null;
          try {
            return { stage: parseModelKey(o.key)!.name, key: o.key, doc: decodeDoc(stageDocSchema, got.body, o.key) };
          } catch {
            differences.push({ kind: 'invalid-on-remote', model: name, id: '', key: o.key, detail: 'not a valid stage document' });
            return null;
          }
        }),
      ),
    );
    const moves = new Map<string, AuditEvent>();
    for (const c of found.values()) if (c.event.action === 'promote' || c.event.action === 'rollback') moves.set(c.event.id, c.event);
    for (const e of here.values()) {
      if (!e.onRemote || (e.action !== 'promote' && e.action !== 'rollback')) continue;
      const ev = JSON.parse(e.payload) as AuditEvent;
      moves.set(ev.id, ev);
    }
    const byStage = new Map<string, StageMoveEvent[]>();
    for (const e of moves.values()) {
      const stage = typeof e.data.stage === 'string' ? e.data.stage : '';
      byStage.set(stage, [...(byStage.get(stage) ?? []), { id: e.id, at: e.at, from: e.from, to: e.to }]);
    }
    for (const [stage, stageMoves] of byStage) {
      const stageDocs = docs.filter((d) => d !== null && d.stage === stage) as { stage: string; key: string; doc: { version: string; event?: string | null } }[];
      const unjudged = stageDocs.find((d) => d.doc.event && !stageMoves.some((m) => m.id === d.doc.event));
      if (unjudged) {
        differences.push({ kind: 'stage-event-missing', model: name, id: unjudged.doc.event ?? '', key: unjudged.key, detail: `${unjudged.key} names an event the remote does not hold; the moves of '${stage}' cannot be checked` });
        continue;
      }
      for (const m of unvouchedMoves(stageMoves, stageDocs.map((d) => ({ event: d.doc.event ?? null, version: d.doc.version })))) {
        const e = moves.get(m.id)!;
        differences.push({
          kind: 'stage-mismatch',
          model: name,
          id: m.id,
          key: found.get(m.id)?.key ?? null,
          detail: `${e.action} of '${stage}' by ${e.actor} at ${e.at} (${short(e.from)} → ${short(e.to)}): no stage document's chain of moves includes it`,
        });
      }
    }
  }
  return { remote: session.displayUrl, local: local.length, remoteEvents, differences };
}

/** The remote's events of one model, each checked: valid JSON of this model whose id is its content hash and its key's. */
async function readRemoteEvents(
  session: StoreSession,
  model: string,
  objects: { key: string }[],
  limit: LimitFunction,
  differences: EventDifference[],
): Promise<Map<string, { key: string; body: string; event: AuditEvent }>> {
  const out = new Map<string, { key: string; body: string; event: AuditEvent }>();
  await Promise.all(
    objects.map((o) =>
      limit(async () => {
        const id = /([0-9a-f]{64})\.json$/.exec(o.key)?.[1] ?? '';
        const got = await session.remote.get(o.key);
        if (!got) return;
        let e: AuditEvent;
        try {
          e = decodeDoc(eventDocSchema, got.body, o.key) as AuditEvent;
        } catch (err) {
          differences.push({ kind: 'invalid-on-remote', model, id, key: o.key, detail: err instanceof Error ? err.message : String(err) });
          return;
        }
        const body = got.body.toString('utf8');
        if (eventContentId(e) !== e.id || e.id !== id || e.model !== model || o.key !== keys.event(model, e.at, e.id) || eventPayload(e) !== body) {
          differences.push({ kind: id ? 'altered-on-remote' : 'invalid-on-remote', model, id, key: o.key, detail: 'the copy does not hash to the id in its name (edited, or not canonical)' });
          return;
        }
        out.set(e.id, { key: o.key, body, event: e });
      }),
    ),
  );
  return out;
}

function short(id: string | null): string {
  return id ? id.slice(0, 12) : 'none';
}
