import { closeSync, constants as fsConstants, fstatSync, fsyncSync, openSync, readSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IntegrityError, fsError, isErrnoException } from '../errors.js';
import type { Database } from './index-db.js';

/**
 * The durable record of refs (docs/design.md §9): `.modelctl/journal.jsonl`, one line per
 * change to a version's number or archived mark, a tag, a stage holder, a stage move, an
 * event (its exact canonical JSON), a signature bundle, or what a remote is known to hold. Manifests and
 * objects are their own durable record; this file is the rest of what the index knows that
 * the store cannot tell, so `verify --rebuild-index` can restore it after index.db is lost,
 * damaged or restored from an older copy (say, without its WAL).
 *
 * Write order: triggers on those tables queue each change in `journal_pending`, inside the
 * transaction that makes it; right after that transaction commits, one more IMMEDIATE
 * transaction appends the queue to the journal, fsyncs it and clears the queue. Under the
 * write lock, so lines land in commit order; before the command reports success, so every
 * acknowledged change is in the journal. A crash in between leaves the queue for the next
 * writer; a crash after the append and before the clear appends the same lines again
 * (same `n`, read once). Each line is `{"n":<queue seq>,"r":<record>}`.
 *
 * The index knows how far the journal should go (the queue's sequence counter). A journal
 * that goes further proves the index lost committed transactions: every write refuses
 * (INDEX_BEHIND, exit 6) until `verify --rebuild-index` has restored them.
 */
export const JOURNAL_FILE = 'journal.jsonl';

/** The journal of the index whose database file is `db.name`. */
export function journalPathOf(db: Database): string {
  return join(dirname(db.name), JOURNAL_FILE);
}

/** A record as the triggers write it (schema migration 6). */
export type JournalRecord =
  | { k: 'version'; id: string; model: string; number: number; archived: number }
  | { k: 'tag'; model: string; name: string; version: string | null; message?: string | null; at?: string; actor?: string }
  | { k: 'stage'; model: string; stage: string; version: string | null; previous?: string | null; event?: string | null; at?: string }
  | { k: 'stage-move'; model: string; stage: string; version: string | null; previous: string | null; event: string | null; at: string }
  | { k: 'event'; id: string; payload: string; pushed: number }
  | { k: 'event-pushed'; id: string; pushed: number }
  | { k: 'remote-version'; remote: string; id: string; number: number | null }
  | { k: 'signature'; version: string; kind: string; keyHint: string; bundleHex: string; bundleId: string; at: string }
  | { k: 'remote-event'; remote: string; id: string };

/**
 * Appends the queued changes to the journal and clears the queue, under the write lock.
 * Called after every write transaction (writeTransaction) and after migrations.
 */
export function drainJournal(db: Database): void {
  if (db.inTransaction) return;
  if (!db.prepare('SELECT 1 FROM journal_pending LIMIT 1').get()) return;
  // The journal's own fsync makes the lines durable; clearing the queue need not be (if a
  // power loss undoes it, the same lines are appended again and read once), so this
  // transaction skips the WAL fsync that synchronous = FULL would add.
  const level = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = NORMAL');
  try {
    drainQueue(db);
  } finally {
    db.pragma(`synchronous = ${level}`);
  }
}

function drainQueue(db: Database): void {
  db.transaction(() => {
    // An index behind its journal must not add lines (their n would repeat the journal's):
    // the queue waits for `verify --rebuild-index`.
    if (indexBehindJournal(db)) return;
    const rows = db.prepare('SELECT seq, record FROM journal_pending ORDER BY seq').all() as { seq: number; record: string }[];
    if (rows.length === 0) return;
    appendLines(journalPathOf(db), rows.map((r) => `{"n":${r.seq},"r":${r.record}}\n`).join(''));
    db.prepare('DELETE FROM journal_pending WHERE seq <= ?').run(rows[rows.length - 1].seq);
  }).immediate();
}

/**
 * Throws IntegrityError INDEX_BEHIND when the journal holds changes the index does not
 * (call inside a write transaction, before changing anything).
 */
export function assertIndexNotBehind(db: Database): void {
  const behind = indexBehindJournal(db);
  if (behind) {
    throw new IntegrityError(
      'INDEX_BEHIND',
      `the index is behind its journal: ${behind.missing} recorded change(s) are not in index.db (it was restored from an older copy, or lost its WAL)`,
      { hint: 'restore them with `modelctl verify --rebuild-index`', data: behind },
    );
  }
}

/** How far the journal runs past the index, or null when it does not. */
export function indexBehindJournal(db: Database): { journalSeq: number; indexSeq: number; missing: number } | null {
  const journalSeq = lastJournalSeq(journalPathOf(db));
  if (journalSeq === 0) return null;
  const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'journal_pending'").get() as { seq: number } | undefined;
  const indexSeq = row?.seq ?? 0;
  return journalSeq > indexSeq ? { journalSeq, indexSeq, missing: journalSeq - indexSeq } : null;
}

/** Every record of the journal in order (each `n` once; torn lines are skipped). */
export function readJournal(path: string): JournalRecord[] {
  const text = readWhole(path);
  if (text === null) return [];
  const seen = new Set<number>();
  const out: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const parsed = JSON.parse(line) as { n?: unknown; r?: unknown };
      // A line appended again after a crash between append and clear has the same n.
      if (typeof parsed.n !== 'number' || !parsed.r || typeof parsed.r !== 'object' || seen.has(parsed.n)) continue;
      seen.add(parsed.n);
      out.push(parsed.r as JournalRecord);
    } catch {
      /* a line torn by a crash: its change was queued again and appended once more */
    }
  }
  return out;
}

/**
 * The journal to restore from: journal.jsonl, or, when a rebuild was interrupted after
 * setting the old one aside, the newest one set aside. Null when there is none.
 */
export function journalToRestore(metaDir: string): string | null {
  const main = join(metaDir, JOURNAL_FILE);
  if (readWhole(main) !== null) return main;
  let names: string[];
  try {
    names = readdirSync(metaDir);
  } catch {
    return null;
  }
  const aside = names.filter((n) => n.startsWith(`${JOURNAL_FILE}.replaced-`)).sort();
  return aside.length ? join(metaDir, aside[aside.length - 1]) : null;
}

/**
 * Sets the journal aside (`journal.jsonl.replaced-<time>`) so a rebuilt index starts a
 * fresh one (its own snapshot of what it restored). Returns the new name, or null.
 */
export function setJournalAside(metaDir: string): string | null {
  const main = join(metaDir, JOURNAL_FILE);
  const aside = `${main}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(main, aside);
    return aside;
  } catch (err) {
    if (isErrnoException(err, 'ENOENT')) return null;
    throw fsError(err, main);
  }
}

function appendLines(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const buf = Buffer.from(text, 'utf8');
    // A line torn by an earlier crash has no newline: start on a fresh line after it.
    const size = fstatSync(fd).size;
    const prefix = size > 0 && !endsWithNewline(fd, size) ? Buffer.from('\n') : null;
    const all = prefix ? Buffer.concat([prefix, buf]) : buf;
    for (let off = 0; off < all.length; ) off += writeSync(fd, all, off, all.length - off);
    fsyncSync(fd);
  } catch (err) {
    throw fsError(err, path);
  } finally {
    closeSync(fd);
  }
}

function endsWithNewline(fd: number, size: number): boolean {
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, size - 1);
  return b[0] === 0x0a;
}

/** The `n` of the journal's last complete line (0 when there is none), reading its tail only. */
function lastJournalSeq(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (err) {
    if (isErrnoException(err, 'ENOENT')) return 0;
    throw fsError(err, path);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 0;
    for (let window = 64 * 1024; ; window *= 4) {
      const start = Math.max(0, st.size - window);
      const buf = Buffer.alloc(st.size - start);
      readSync(fd, buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n');
      // The first piece may be cut by the window, the last may be torn: look from the end.
      for (let i = lines.length - 1; i >= (start === 0 ? 0 : 1); i--) {
        const m = /^\{"n":(\d+),"r":\{.*\}\}$/.exec(lines[i]);
        if (m) return Number(m[1]);
      }
      if (start === 0) return 0;
    }
  } finally {
    closeSync(fd);
  }
}

function readWhole(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (err) {
    if (isErrnoException(err, 'ENOENT')) return null;
    throw fsError(err, path);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    const buf = Buffer.alloc(st.size);
    for (let off = 0; off < buf.length; ) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
