import { eventContentId, type AuditEvent } from '../core/events.js';
import { appendEvent } from './events-table.js';
import { openIndex, type Database } from './index-db.js';
import type { JournalRecord } from './ref-journal.js';
import { insertSignature, type SignatureKind } from './signatures-table.js';
import { markEvents, markEventsOnKnownRemotes } from './unpushed-events.js';

/**
 * What `verify --rebuild-index` restores besides versions and objects (docs/design.md §9):
 * from the ref journal when there is one, else from whatever rows of the old index can
 * still be read.
 */

/** Refs as the journal's last word on each leaves them. */
export interface JournalState {
  /** Version id → number and archived mark. */
  versions: Map<string, { number: number; archived: boolean }>;
  tags: Extract<JournalRecord, { k: 'tag' }>[];
  stages: Extract<JournalRecord, { k: 'stage' }>[];
  moves: Extract<JournalRecord, { k: 'stage-move' }>[];
  events: { payload: string; id: string; pushed: number }[];
  remoteVersions: Extract<JournalRecord, { k: 'remote-version' }>[];
  signatures: Extract<JournalRecord, { k: 'signature' }>[];
  remoteEvents: Extract<JournalRecord, { k: 'remote-event' }>[];
}

/** Folds journal records (oldest first) into the state they leave. */
export function foldJournal(records: readonly JournalRecord[]): JournalState {
  const versions = new Map<string, { number: number; archived: boolean }>();
  const tags = new Map<string, Extract<JournalRecord, { k: 'tag' }>>();
  const stages = new Map<string, Extract<JournalRecord, { k: 'stage' }>>();
  const moves: JournalState['moves'] = [];
  const events = new Map<string, { payload: string; id: string; pushed: number }>();
  const remoteVersions = new Map<string, Extract<JournalRecord, { k: 'remote-version' }>>();
  const signatures: JournalState['signatures'] = [];
  const remoteEvents: JournalState['remoteEvents'] = [];
  for (const r of records) {
    switch (r.k) {
      case 'version':
        versions.set(r.id, { number: r.number, archived: r.archived === 1 });
        break;
      case 'tag':
        tags.set(`${r.model}\0${r.name}`, r);
        break;
      case 'stage':
        stages.set(`${r.model}\0${r.stage}`, r);
        break;
      case 'stage-move':
        moves.push(r);
        break;
      case 'event':
        if (!events.has(r.id)) events.set(r.id, { id: r.id, payload: r.payload, pushed: r.pushed });
        break;
      case 'event-pushed': {
        const e = events.get(r.id);
        if (e) e.pushed = r.pushed;
        break;
      }
      case 'remote-version':
        remoteVersions.set(`${r.remote}\0${r.id}`, r);
        break;
      case 'signature':
        signatures.push(r);
        break;
      case 'remote-event':
        remoteEvents.push(r);
        break;
    }
  }
  return {
    versions,
    tags: [...tags.values()].filter((t) => t.version !== null),
    stages: [...stages.values()].filter((s) => s.version !== null),
    moves,
    events: [...events.values()],
    remoteVersions: [...remoteVersions.values()],
    signatures,
    remoteEvents,
  };
}

/** What restoring from the journal put back, and what it could not prove. */
export interface JournalRestore {
  tags: number;
  stages: number;
  events: number;
  archived: number;
  signatures: number;
  /** Events whose content does not hash to their id (edited in the journal): left out. */
  unprovableEvents: string[];
  /** Tags and stages naming a version no manifest on disk proves: left out. */
  refsWithoutVersion: string[];
}

/**
 * Restores tags, stages, stage history, archived marks, events (in journal order, each
 * checked against its content id; the hash chain is computed afresh over them) and what
 * remotes hold into a rebuilt index whose versions are in place. Inside its transaction.
 */
export function restoreFromJournal(db: Database, s: JournalState): JournalRestore {
  const out: JournalRestore = { tags: 0, stages: 0, events: 0, archived: 0, signatures: 0, unprovableEvents: [], refsWithoutVersion: [] };
  const modelId = (name: string) => (db.prepare('SELECT id FROM models WHERE name = ?').get(name) as { id: number } | undefined)?.id;
  const hasVersion = (id: string | null | undefined) => !!id && !!db.prepare('SELECT 1 FROM versions WHERE id = ?').get(id);
  const superseded: string[] = [];
  const published: string[] = [];
  for (const e of s.events) {
    let event: AuditEvent;
    try {
      event = JSON.parse(e.payload) as AuditEvent;
    } catch {
      out.unprovableEvents.push(e.id);
      continue;
    }
    if (event.id !== e.id || eventContentId(event) !== e.id) {
      out.unprovableEvents.push(e.id);
      continue;
    }
    if (appendEvent(db, event)) out.events++;
    if (e.pushed === 1) published.push(e.id);
    if (e.pushed === 2) superseded.push(e.id);
  }
  markEvents(db, published, 1);
  markEvents(db, superseded, 2);
  for (const t of s.tags) {
    const m = modelId(t.model);
    if (m === undefined || !hasVersion(t.version)) {
      out.refsWithoutVersion.push(`${t.model}@${t.name}`);
      continue;
    }
    db.prepare('INSERT OR REPLACE INTO tags (model_id, name, version_id, message, created_at, actor) VALUES (?,?,?,?,?,?)').run(
      m, t.name, t.version, t.message ?? null, t.at ?? new Date(0).toISOString(), t.actor ?? '',
    );
    out.tags++;
  }
  for (const h of s.moves) {
    const m = modelId(h.model);
    if (m === undefined) continue;
    db.prepare('INSERT INTO stage_history (model_id, stage, version_id, previous_version_id, event_id, at) VALUES (?,?,?,?,?,?)').run(
      m, h.stage, h.version, h.previous, h.event, h.at,
    );
  }
  for (const st of s.stages) {
    const m = modelId(st.model);
    if (m === undefined || !hasVersion(st.version)) {
      out.refsWithoutVersion.push(`${st.model}@${st.stage}`);
      continue;
    }
    db.prepare('INSERT OR REPLACE INTO stages (model_id, stage, version_id, previous_version_id, event_id, updated_at) VALUES (?,?,?,?,?,?)').run(
      m, st.stage, st.version, st.previous ?? null, st.event ?? null, st.at ?? new Date(0).toISOString(),
    );
    out.stages++;
  }
  for (const [id, v] of s.versions) {
    if (v.archived && db.prepare('UPDATE versions SET archived = 1 WHERE id = ?').run(id).changes === 1) out.archived++;
  }
  for (const r of s.remoteVersions) {
    if (hasVersion(r.id)) db.prepare('INSERT OR IGNORE INTO remote_versions (remote, version_id, number) VALUES (?,?,?)').run(r.remote, r.id, r.number);
  }
  markEventsOnKnownRemotes(db, published); // the journal says published, not where (docs/design.md §7)
  const hasEvent = db.prepare('SELECT 1 FROM events WHERE id = ?');
  const onRemote = db.prepare('INSERT OR IGNORE INTO remote_events (remote, event_id) VALUES (?, ?)');
  for (const r of s.remoteEvents) if (hasEvent.get(r.id)) onRemote.run(r.remote, r.id);
  // Bundles are checked whenever they are used (docs/design.md §11); they cannot be made
  // again without the signer's key, so every one the journal kept comes back.
  for (const g of s.signatures) {
    if (!hasVersion(g.version)) continue;
    const row = { versionId: g.version, kind: g.kind as SignatureKind, keyHint: g.keyHint, bundle: Buffer.from(g.bundleHex, 'hex'), bundleId: g.bundleId, createdAt: g.at };
    if (insertSignature(db, row)) out.signatures++;
  }
  return out;
}

/** What can still be read from a damaged index. */
export interface Salvage {
  numbers: Map<string, number>;
  tags: Record<string, unknown>[];
  stages: Record<string, unknown>[];
  stageHistory: Record<string, unknown>[];
  events: Record<string, unknown>[];
  meta: Record<string, unknown>[];
  /** Signature bundles cannot be made again without the signer's key: keep them (each is checked whenever it is used, §11). */
  signatures: Record<string, unknown>[];
}

/** Reads what it can from a damaged index; null when nothing can be read. */
export function trySalvage(path: string): Salvage | null {
  let db: Database | null = null;
  try {
    db = openIndex(path, { readonly: true });
    const all = (sql: string) => {
      try {
        return db!.prepare(sql).all() as Record<string, unknown>[];
      } catch {
        return [];
      }
    };
    const numbers = new Map<string, number>();
    for (const r of all('SELECT id, number FROM versions')) numbers.set(r.id as string, r.number as number);
    return {
      numbers,
      tags: all('SELECT m.name AS model, t.name, t.version_id, t.message, t.created_at, t.actor FROM tags t JOIN models m ON m.id = t.model_id'),
      stages: all('SELECT m.name AS model, s.stage, s.version_id, s.previous_version_id, s.event_id, s.updated_at FROM stages s JOIN models m ON m.id = s.model_id'),
      stageHistory: all('SELECT m.name AS model, h.stage, h.version_id, h.previous_version_id, h.event_id, h.at FROM stage_history h JOIN models m ON m.id = h.model_id ORDER BY h.seq'),
      events: all('SELECT id, at, actor, action, model, version_id, payload, prev_hash, hash, pushed FROM events ORDER BY seq'),
      meta: all("SELECT key, value FROM meta WHERE key = 'events_head'"),
      signatures: all('SELECT version_id, kind, key_hint, bundle, bundle_id, created_at FROM signatures'),
    };
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

/** Copies the salvaged rows into the rebuilt index (inside its transaction). */
export function restoreSalvage(db: Database, s: Salvage): void {
  const modelId = (name: unknown) => (db.prepare('SELECT id FROM models WHERE name = ?').get(name) as { id: number } | undefined)?.id;
  const hasVersion = (id: unknown) => !!db.prepare('SELECT 1 FROM versions WHERE id = ?').get(id);
  for (const t of s.tags) {
    const m = modelId(t.model);
    if (m !== undefined && hasVersion(t.version_id)) {
      db.prepare('INSERT OR IGNORE INTO tags (model_id, name, version_id, message, created_at, actor) VALUES (?,?,?,?,?,?)').run(m, t.name, t.version_id, t.message, t.created_at, t.actor);
    }
  }
  for (const st of s.stages) {
    const m = modelId(st.model);
    if (m !== undefined && hasVersion(st.version_id)) {
      db.prepare('INSERT OR IGNORE INTO stages (model_id, stage, version_id, previous_version_id, event_id, updated_at) VALUES (?,?,?,?,?,?)').run(
        m, st.stage, st.version_id, st.previous_version_id, st.event_id, st.updated_at,
      );
    }
  }
  restoreSalvagedSignatures(db, s);
  for (const h of s.stageHistory) {
    const m = modelId(h.model);
    if (m !== undefined) {
      db.prepare('INSERT INTO stage_history (model_id, stage, version_id, previous_version_id, event_id, at) VALUES (?,?,?,?,?,?)').run(
        m, h.stage, h.version_id, h.previous_version_id, h.event_id, h.at,
      );
    }
  }
  // Events are copied row for row, chain fields included, so `history --verify` still
  // judges the trail as it was (a damaged trail stays visibly damaged).
  for (const e of s.events) {
    db.prepare('INSERT OR IGNORE INTO events (id, at, actor, action, model, version_id, payload, prev_hash, hash, pushed) VALUES (?,?,?,?,?,?,?,?,?,?)').run(
      e.id, e.at, e.actor, e.action, e.model, e.version_id, e.payload, e.prev_hash, e.hash, e.pushed,
    );
  }
  for (const r of s.meta) db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(r.key, r.value);
}

/** Copies salvaged signature bundles of versions the rebuilt index has; returns how many were new. */
export function restoreSalvagedSignatures(db: Database, s: Salvage): number {
  const hasVersion = (id: unknown) => !!db.prepare('SELECT 1 FROM versions WHERE id = ?').get(id);
  let n = 0;
  for (const sg of s.signatures) {
    if (!hasVersion(sg.version_id)) continue;
    const row = {
      versionId: sg.version_id as string,
      kind: sg.kind as SignatureKind,
      keyHint: sg.key_hint as string,
      bundle: sg.bundle as Buffer,
      bundleId: sg.bundle_id as string,
      createdAt: sg.created_at as string,
    };
    if (insertSignature(db, row)) n++;
  }
  return n;
}
