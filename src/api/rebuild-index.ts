import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, versionIdentity, type VersionManifest } from '../core/manifest.js';
import { hashFileSync } from '../store/hash-file.js';
import { openIndex, writeTransaction } from '../store/index-db.js';
import { foldJournal, restoreFromJournal, restoreSalvage, restoreSalvagedSignatures, trySalvage } from '../store/index-restore.js';
import { ObjectStore } from '../store/objects.js';
import { JOURNAL_FILE, journalToRestore, readJournal, setJournalAside } from '../store/ref-journal.js';
import { insertTensorSummaries } from '../store/tensor-summaries.js';
import { insertVersion, recordObject } from '../store/version-records.js';
import { IntegrityError } from '../errors.js';
import { findRepo } from '../workspace/repo-paths.js';
import type { CommonOptions } from './repository.js';
import { summarizeTensorFiles } from './tensor-summary-step.js';

export interface RebuildResult {
  /** Where the old index was moved. */
  movedTo: string | null;
  versions: number;
  objects: number;
  /** Where tags, stages, events and numbers came from: the ref journal, the old index, or nowhere. */
  restoredFrom: 'journal' | 'old-index' | 'nothing';
  /** Rows copied from the old index when it could still be read (or restored from the journal). */
  salvaged: { numbers: boolean; tags: number; stages: number; events: number; signatures: number };
  /** What the journal holds that could not be proven (events that do not hash to their id, refs to versions without a manifest). */
  unprovable: { events: string[]; refs: string[] };
  /** Where the old journal was set aside (the rebuilt index starts a fresh one). */
  journalSetAside: string | null;
  skippedManifests: { id: string; reason: string }[];
  /** Model files whose tensor summary was recorded again (docs/design.md §15). */
  tensorSummaries: number;
}

/**
 * Rebuilds `.modelctl/index.db` from the store: every manifest (checked against its id)
 * becomes a version, every object is re-chunked for the chunk map. Version numbers,
 * archived marks, tags, stages, their history and events come from the ref journal
 * (`.modelctl/journal.jsonl`, docs/design.md §9), each event checked against its content
 * id; without a journal they are copied from the old index when it can still be read, and
 * otherwise numbers follow creation time per model and the audit trail starts afresh.
 */
export async function rebuildIndex(opts: CommonOptions = {}): Promise<RebuildResult> {
  const cwd = opts.cwd ?? process.cwd();
  let metaDir: string;
  try {
    metaDir = findRepo(cwd, opts.env).metaDir;
  } catch (err) {
    // findRepo needs index.db; a repository whose index was deleted is still one (it says
    // where, from any folder below it).
    const lost = err instanceof IntegrityError && err.code === 'INDEX_MISSING' ? err.data?.metaDir : undefined;
    metaDir = typeof lost === 'string' ? lost : join(cwd, '.modelctl');
    if (!existsSync(join(metaDir, 'objects'))) throw err;
  }
  const dbPath = join(metaDir, 'index.db');
  let movedTo: string | null = null;
  const journalFile = journalToRestore(metaDir);
  const journal = journalFile ? foldJournal(readJournal(journalFile)) : null;
  const fromJournal = journal !== null && (journal.versions.size > 0 || journal.events.length > 0);
  const old = existsSync(dbPath) ? trySalvage(dbPath) : null;
  if (existsSync(dbPath)) {
    movedTo = `${dbPath}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(dbPath, movedTo);
    for (const ext of ['-wal', '-shm']) if (existsSync(dbPath + ext)) renameSync(dbPath + ext, movedTo + ext);
  }
  // The rebuilt index writes a fresh journal (a snapshot of what it restored); the old one
  // stays beside it, and is read again if this rebuild is interrupted.
  const journalSetAside = setJournalAside(metaDir) ?? (journalFile && journalFile !== join(metaDir, JOURNAL_FILE) ? journalFile : null);
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
    const numberOf = (id: string) => (fromJournal ? journal.versions.get(id)?.number : undefined) ?? old?.numbers.get(id);
    const restored = writeTransaction(db, () => {
      const next = new Map<string, number>();
      const usedNumbers = new Map<string, Set<number>>();
      // Versions whose number is known first, so one without cannot take it.
      const ordered = [...manifests.filter((x) => numberOf(x.id) !== undefined), ...manifests.filter((x) => numberOf(x.id) === undefined)];
      for (const { id, m } of ordered) {
        let n = numberOf(id);
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
        if (recordObject(db, digest, h.size, h.chunks)) objects++;
      }
      if (fromJournal) {
        const r = restoreFromJournal(db, journal);
        // Bundles signed before the journal existed are only in the old index.
        if (old) r.signatures += restoreSalvagedSignatures(db, old);
        return r;
      }
      if (old) restoreSalvage(db, old);
      return null;
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
      restoredFrom: restored ? 'journal' : old ? 'old-index' : 'nothing',
      salvaged: restored
        ? { numbers: true, tags: restored.tags, stages: restored.stages, events: restored.events, signatures: restored.signatures }
        : { numbers: !!old && old.numbers.size > 0, tags: old?.tags.length ?? 0, stages: old?.stages.length ?? 0, events: old?.events.length ?? 0, signatures: old?.signatures.length ?? 0 },
      unprovable: { events: restored?.unprovableEvents ?? [], refs: restored?.refsWithoutVersion ?? [] },
      journalSetAside,
      skippedManifests,
      tensorSummaries,
    };
  } finally {
    db.close();
  }
}
