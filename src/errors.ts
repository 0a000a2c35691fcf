/**
 * One typed error hierarchy. Every failure modelctl reports carries a stable string
 * `code` (for scripts and --json), the process exit code of docs/design.md §3, and a hint that
 * names the command that fixes it. Only src/cli/main.ts turns these into an exit.
 */

export const ExitCode = {
  OK: 0,
  BUG: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  POLICY: 5,
  INTEGRITY: 6,
  REMOTE: 7,
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ModelctlErrorOptions {
  hint?: string;
  exitCode?: ExitCodeValue;
  cause?: unknown;
  /** Extra structured facts, printed under "data" with --json. */
  data?: Record<string, unknown>;
}

/** Base class: a failure with a stable code, an exit code and an optional hint. */
export class ModelctlError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly data?: Record<string, unknown>;

  constructor(code: string, message: string, opts: ModelctlErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode ?? ExitCode.BUG;
    this.hint = opts.hint;
    this.data = opts.data;
  }
}

/** Bad command line: unknown flag, malformed name or value (exit 2). */
export class UsageError extends ModelctlError {
  constructor(code: string, message: string, opts: Omit<ModelctlErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.USAGE });
  }
}

/** A repository, model, reference, remote or file that does not exist (exit 3). */
export class NotFoundError extends ModelctlError {
  constructor(code: string, message: string, opts: Omit<ModelctlErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.NOT_FOUND });
  }
}

/** Something else got there first: tag exists, stage moved, files would be overwritten, lock held (exit 4). */
export class ConflictError extends ModelctlError {
  constructor(code: string, message: string, opts: Omit<ModelctlErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.CONFLICT });
  }
}

/** A policy gate, an archived version or a pre-* hook said no (exit 5). */
export class PolicyError extends ModelctlError {
  constructor(code: string, message: string, opts: Omit<ModelctlErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.POLICY });
  }
}

/** Bytes that do not hash to their name, a missing object, a broken audit chain (exit 6). */
export class IntegrityError extends ModelctlError {
  constructor(code: string, message: string, opts: Omit<ModelctlErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.INTEGRITY });
  }
}

/** Network, credentials, permissions or throttling that outlasted the retries (exit 7). */
export class RemoteError extends ModelctlError {
  constructor(code: string, message: string, opts: Omit<ModelctlErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.REMOTE });
  }
}

/** SIGINT/SIGTERM ended the command; temp files were removed (exit 130). */
export class InterruptedError extends ModelctlError {
  constructor(message = 'interrupted') {
    super('INTERRUPTED', message, { exitCode: ExitCode.INTERRUPTED });
  }
}

/**
 * The command that `modelctl run` ran failed (docs/design.md §14): modelctl exits with that
 * command's own exit code (1–255; 128 + n when signal n killed it), so `modelctl run -- …` can
 * stand in for the command in scripts. Nothing was committed.
 */
export class CommandFailedError extends ModelctlError {
  constructor(message: string, commandExitCode: number, opts: Omit<ModelctlErrorOptions, 'exitCode'> = {}) {
    // Deliberately outside ExitCode: the code is the command's, passed through.
    super('COMMAND_FAILED', message, { ...opts, exitCode: Math.min(255, Math.max(1, commandExitCode)) as ExitCodeValue });
  }
}

/** The string `code` an error carries (a ModelctlError's, a Node system error's, SQLite's, a network error's), or undefined. */
export function codeOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** True for Node system errors such as ENOENT, with the code narrowed. */
export function isErrnoException(err: unknown, code?: string): err is NodeJS.ErrnoException {
  const c = codeOf(err);
  return c !== undefined && (code === undefined || c === code);
}

/**
 * Maps a file-system error to a ModelctlError: ENOENT → not found (3), EACCES → not
 * found/unreadable (3), EROFS → READ_ONLY_FILE_SYSTEM (3, as permissions), EEXIST/ENOTDIR
 * (a file where a folder must be) → NOT_A_FOLDER (4, in the way), ENOSPC/EDQUOT → NO_SPACE
 * (4: the disk cannot take the write, a resource conflict rather than a bug), anything else
 * → IO_ERROR (1).
 */
export function fsError(err: unknown, what: string): ModelctlError {
  if (err instanceof ModelctlError) return err;
  if (isErrnoException(err, 'ENOENT')) {
    return new NotFoundError('FILE_NOT_FOUND', `${what}: no such file or directory`, { cause: err });
  }
  if (isErrnoException(err, 'EACCES') || isErrnoException(err, 'EPERM')) {
    return new NotFoundError('FILE_UNREADABLE', `${what}: permission denied`, {
      cause: err,
      hint: 'check the file permissions',
    });
  }
  if (isErrnoException(err, 'EROFS')) {
    return new NotFoundError('READ_ONLY_FILE_SYSTEM', `${what}: read-only file system`, {
      cause: err,
      hint: 'write somewhere on a writable file system',
    });
  }
  if (isErrnoException(err, 'EEXIST') || isErrnoException(err, 'ENOTDIR')) {
    // mkdir of a folder where a file is (checkout --out a-file), or a path through a file.
    return new ConflictError('NOT_A_FOLDER', `${what}: a file is in the way of a folder`, {
      cause: err,
      hint: 'choose another path, or move the file away',
    });
  }
  if (isErrnoException(err, 'EISDIR')) {
    return new ConflictError('IS_A_FOLDER', `${what}: a folder is in the way of a file`, { cause: err, hint: 'give a file path, not a folder' });
  }
  if (isErrnoException(err, 'ENOSPC') || isErrnoException(err, 'EDQUOT')) {
    return new ModelctlError('NO_SPACE', `${what}: no space left on device`, {
      cause: err,
      exitCode: ExitCode.CONFLICT,
      hint: 'free some space (`modelctl gc` drops unreferenced objects) and run the command again',
    });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new ModelctlError('IO_ERROR', `${what}: ${msg}`, { cause: err, exitCode: ExitCode.BUG });
}
