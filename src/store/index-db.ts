import BetterSqlite3 from 'better-sqlite3';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConflictError, IntegrityError, ModelctlError, NotFoundError, codeOf, isErrnoException } from '../errors.js';
import { assertIndexNotBehind, drainJournal } from './ref-journal.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export type Database = BetterSqlite3.Database;

/** How long a writer waits for another process's transaction before giving up (exit 4). */
const BUSY_TIMEOUT_MS = 30_000;

const require = createRequire(import.meta.url);

let binding: string | null | undefined;

/**
 * better-sqlite3's compiled addon, by path: without it the package searches a dozen
 * locations for it (the `bindings` module) on every start. Undefined when it is not in
 * the usual place (a prebuilt binary elsewhere): the package then finds it itself.
 */
function nativeBinding(): string | undefined {
  if (binding === undefined) {
    try {
      const path = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
      binding = existsSync(path) ? path : null;
    } catch {
      binding = null;
    }
  }
  return binding ?? undefined;
}

/** better-sqlite3's class and the path of its addon, for every database this package opens. */
export function sqliteDriver(): { Sqlite: typeof BetterSqlite3; addon: string | undefined } {
  // With the addon's path known, the package's JavaScript is the copy bundled with this
  // module (from node_modules it costs ~10 ms of module resolution and loading on every
  // command); without it, the installed package finds its addon itself.
  const addon = nativeBinding();
  return { Sqlite: addon ? BetterSqlite3 : (require('better-sqlite3') as typeof BetterSqlite3), addon };
}

/**
 * Opens (and creates or migrates) `.modelctl/index.db`: WAL journal, a busy timeout so
 * concurrent commands wait instead of failing, foreign keys on. A file that is not a
 * database, or a newer schema, fails with an error naming the fix.
 */
export function openIndex(path: string, opts: { create?: boolean; readonly?: boolean; durable?: boolean } = {}): Database {
  const { Sqlite, addon } = sqliteDriver();
  let db: Database;
  try {
    db = new Sqlite(path, { fileMustExist: !opts.create, readonly: opts.readonly ?? false, nativeBinding: addon });
  } catch (err) {
    throw mapSqliteError(err, path);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    // FULL: in WAL mode every commit fsyncs the WAL, so "Committed" survives a power loss
    // (NORMAL syncs only at checkpoints and may lose the last transactions). The cost is
    // measured in bench/safety.mjs and the README (docs/design.md §9).
    // A throwaway store's index (durable: false) is gone when its command ends: OFF.
    db.pragma(opts.durable === false ? 'synchronous = OFF' : 'synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (!opts.readonly) migrate(db);
    else checkVersion(db);
    return db;
  } catch (err) {
    db.close();
    throw mapSqliteError(err, path);
  }
}

function checkVersion(db: Database): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new ModelctlError('INDEX_TOO_NEW', `index.db has schema version ${version}, newer than this modelctl understands (${SCHEMA_VERSION})`, {
      exitCode: 2,
      hint: 'upgrade modelctl (npm i -g modelctl)',
    });
  }
  return version;
}

/** Applies the migrations after the database's user_version, each in one transaction. */
function migrate(db: Database): void {
  const current = checkVersion(db);
  if (current === SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const v = db.pragma('user_version', { simple: true }) as number;
    for (let i = v; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  drainJournal(db);
}

/**
 * Runs `fn` in one IMMEDIATE transaction (takes the write lock up front, so two
 * processes never deadlock upgrading a read lock). Busy past the timeout → exit 4. An
 * index that lost transactions its journal still has refuses (INDEX_BEHIND, exit 6), and
 * after the commit the changes queued for the journal are appended to it
 * (store/ref-journal.ts), so a change is in the journal before the command reports it.
 */
export function writeTransaction<T>(db: Database, fn: () => T): T {
  let result: T;
  try {
    result = db.transaction(() => {
      assertIndexNotBehind(db);
      return fn();
    }).immediate();
  } catch (err) {
    throw mapSqliteError(err, 'index.db');
  }
  try {
    drainJournal(db);
  } catch (err) {
    throw mapSqliteError(err, 'index.db');
  }
  return result;
}

/** Maps better-sqlite3 errors to modelctl errors; others pass through. */
/** True when this process may write `path` (if it exists) and the folder holding it. */
function writable(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function mapSqliteError(err: unknown, path: string): unknown {
  if (err instanceof ModelctlError) return err;
  const code = codeOf(err) ?? '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    // SQLite cannot say who holds the lock: another modelctl command, or any program that
    // opened the file (sqlite3, a backup tool, an editor's database viewer).
    return new ConflictError('INDEX_LOCKED', `the repository index (${path}) stayed locked by another process for 30 s`, {
      cause: err,
      hint: 'wait for the other modelctl command to finish, or close the program that has index.db open (sqlite3, a database viewer, a backup tool), then try again',
    });
  }
  if ((code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN') && !writable(path)) {
    // Every command writes the index (WAL, the journal drained into it), reads included.
    return new NotFoundError('INDEX_READ_ONLY', `cannot write the repository index ${path}: it, or its folder, is read-only (its permissions, or a read-only mount)`, {
      cause: err,
      hint: 'modelctl needs write access to .modelctl/ for every command, reads included: run it as the user who owns the repository, or on a writable copy (`cp -a`)',
    });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' && !isErrnoException(err)) {
    return new IntegrityError('INDEX_DAMAGED', `the index ${path} is damaged (${code})`, {
      cause: err,
      hint: 'rebuild it from the store with `modelctl verify --rebuild-index`',
    });
  }
  if (code === 'SQLITE_FULL') {
    return new ModelctlError('NO_SPACE', 'no space left on device while writing the index', { cause: err, exitCode: 4 });
  }
  return err;
}
