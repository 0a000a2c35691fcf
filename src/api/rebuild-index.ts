import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, versionIdentity, type VersionManifest } from '../core/manifest.js';
import { hashFileSync } from '../store/hash-file.js';
import { insertSignature, type SignatureKind } from '../store/signatures-table.js';
import { openIndex, writeTransaction, type Database } from '../store/index-db.js';
import { ObjectStore } from '../store/objects.js';
import { insertTensorSummaries } from '../store/tensor-summaries.js';
import { insertVersion, recordObject } from '../store/version-records.js';
import { findRepo } from '../workspace/repo-paths.js';
import type { CommonOptions } from './repository.js';
import { summarizeTensorFiles } from './tensor-summary-step.js';

export interface RebuildResult {
  /** Where the old index was moved. */
  movedTo: string | null;
  versions: number;
  objects: number;
  /** Rows copied from the old index when it could still be read. */
  salvaged: { numbers: boolean; tags: number; stages: number; events: number; signatures: number };
  skippedManifests: { id: string; reason: string }[];
  /** Model files whose tensor summary was recorded again (docs/design.md §15). */
  tensorSummaries: number;
}

/**
 * Rebuilds `.modelctl/index.db` from the store: every manifest (checked against its id)
 * becomes a version, every object is re-chunked for the chunk map. Version numbers, tags,
 * stages and events are copied from the old index when it can still be read; otherwise
 * numbers follow creation time per model and the audit trail starts afresh.
 */
export async function rebuildIndex(opts: CommonOptions = {}): Promise<RebuildResult> {
  const cwd = opts.cwd ?? process.cwd();
  let metaDir: string;
  try {
    metaDir = findRepo(cwd, opts.env).metaDir;
  } catch {
    // findRepo needs index.db; a repository whose index was deleted is still one.
    metaDir = join(cwd, '.modelctl');
    if (!existsSync(join(metaDir, 'objects'))) throw findRepo(cwd, opts.env);
  }
  const dbPath = join(metaDir, 'index.db');
  let movedTo: string | null = null;
  const old = existsSync(dbPath) ? trySalvage(dbPath) : null;
  if (existsSync(dbPath)) {
    movedTo = `${dbPath}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(dbPath, movedTo);
    for (const ext of ['-wal', '-shm']) if (existsSync(dbPath + ext)) renameSync(dbPath + ext, movedTo + ext);
  }
  const store = new ObjectStore(metaDir);
  store.ensureLayout();
  const db = openIndex(dbPath, { create: true });
  try {
    const skippedManifests: RebuildResult['skippedManifests'] = [];
    const manifests: { id: string; m: VersionManifest }[] = [];
    for (const id of store.listManifests()) {
      try {
        manifests.push({ id, m: parseManifest(store.readManifestBytes(id) as Buffer, id) });
      } catch (err) {
        skippedManifests.push({ id, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    manifests.sort((a, b) => (a.m.created < b.m.created ? -1 : a.m.created > b.m.created ? 1 : a.id < b.id ? -1 : 1));
    let objects = 0;
    const chunked = [...store.listObjects()].map((digest) => {
      const h = hashFileSync(store.objectPath(digest));
      return { digest, h };
    });
    writeTransaction(db, () => {
      const next = new Map<string, number>();
      const usedNumbers = new Map<string, Set<number>>();
      for (const { id, m } of manifests) {
        let n = old?.numbers.get(id);
        const used = usedNumbers.get(m.model) ?? new Set<number>();
        if (n === undefined || used.has(n)) {
          n = Math.max(next.get(m.model) ?? 0, ...used, 0) + 1;
        }
        used.add(n);
        usedNumbers.set(m.model, used);
        next.set(m.model, Math.max(next.get(m.model) ?? 0, n));
        insertVersion(db, { id, manifest: m, number: n, identity: versionIdentity(m) });
      }
      for (const { digest, h } of chunked) {
        if (h.digest !== digest) continue; // corrupt: verify reports it; never index it
        recordObject(db, digest, h.size, h.chunks);
        objects++;
      }
      if (old) restoreRefs(db, old);
    });
    // Tensor summaries come from the objects' headers, so they are rebuilt like the chunk map;
    // a version whose objects are elsewhere gets its summaries when pull brings them.
    let tensorSummaries = 0;
    for (const { id, m } of manifests) {
      if (!m.files.every((f) => store.hasObject(f.digest))) continue;
      const rows = summarizeTensorFiles({ store, db }, m.files);
      if (rows.length) writeTransaction(db, () => insertTensorSummaries(db, id, rows));
      tensorSummaries += rows.length;
    }
    return {
      movedTo,
      versions: manifests.length,
      objects,
      salvaged: { numbers: !!old && old.numbers.size > 0, tags: old?.tags.length ?? 0, stages: old?.stages.length ?? 0, events: old?.events.length ?? 0, signatures: old?.signatures.length ?? 0 },
      skippedManifests,
      tensorSummaries,
    };
  } finally {
    db.close();
  }
}

interface Salvage {
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
function trySalvage(path: string): Salvage | null {
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

function restoreRefs(db: Database, s: Salvage): void {
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
  for (const sg of s.signatures) {
    if (!hasVersion(sg.version_id)) continue;
    insertSignature(db, {
      versionId: sg.version_id as string,
      kind: sg.kind as SignatureKind,
      keyHint: sg.key_hint as string,
      bundle: sg.bundle as Buffer,
      bundleId: sg.bundle_id as string,
      createdAt: sg.created_at as string,
    });
  }
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
