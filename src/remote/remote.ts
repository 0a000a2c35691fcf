/**
 * The one narrow interface every remote backend implements (restic's Backend, in spirit):
 * whole-object put/get/head/list/delete plus the two conditional writes the remote layout
 * (docs/design.md §6) needs: create-only-if-absent for numbers and tags, compare-and-swap for stages.
 * Backends: directory.ts (a path, file:// URL or mounted share) and s3.ts. One contract
 * suite (test/contract/remote-contract.ts) runs against each of them.
 */
import { ConflictError, UsageError } from '../errors.js';

/** A write that only happens if the key is absent (`ifAbsent`) or still holds `ifMatch`. */
export interface PutCondition {
  ifAbsent?: boolean;
  /** The ETag the key must still have, unquoted, as returned by put/get/head/list. */
  ifMatch?: string;
}

/** What a remote knows about one object without reading it. */
export interface ObjectInfo {
  /** Relative to the remote's root, `/`-separated. */
  key: string;
  size: number;
  /** Opaque and unquoted; changes whenever the object is replaced. */
  etag: string;
  /**
   * When the store last wrote the object, by the store's own clock (S3 LastModified, a
   * file's mtime). Remote gc measures its grace period with it (docs/design.md §16); a
   * backend that keeps no such time leaves it out, and remote gc refuses to run there.
   */
  lastModified?: Date;
}

/** What a backend is able to guarantee, learnt by probing (servers differ). */
export interface RemoteCapabilities {
  /** True when `ifAbsent`/`ifMatch` are really enforced (s3rver, for one, ignores them). */
  conditionalWrites: boolean;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** An object store holding one modelctl remote layout under its root. */
export interface Remote {
  /** The remote's URL with credentials, userinfo and signed-query secrets removed: safe to print. */
  readonly displayUrl: string;

  /**
   * Stores `body` at `key` atomically (readers see the old object or the new one, never a
   * mix). With a condition that does not hold, throws ConflictError `PRECONDITION_FAILED`
   * and changes nothing; with `sha256` the store verifies the bytes (IntegrityError on mismatch
   * where the store checks). Returns the new ETag. A conditional put retried after a lost
   * answer counts as won when the object then holds exactly `body`: callers make
   * conditional bodies unique to the writer (modelctl's documents carry id, actor and time).
   */
  put(
    key: string,
    body: Buffer,
    opts?: { condition?: PutCondition; sha256?: Buffer; retainUntil?: Date },
  ): Promise<{ etag: string }>;

  /**
   * Write-once storage, where the store has it (S3 Object Lock): `put` with `retainUntil`
   * stores the object in compliance mode until then (nobody, the bucket's owner included,
   * can delete or replace that version before), and `retention` reads an object's lock.
   * Absent on backends without it (a directory); S3 stores whose bucket has no Object Lock
   * refuse such a put with UsageError OBJECT_LOCK_UNAVAILABLE.
   */
  readonly objectLock?: {
    retention(key: string): Promise<{ mode: string; retainUntil: Date } | null>;
  };

  /**
   * Reads the whole object, or the inclusive byte range (clamped to the object's end; a
   * range starting at or past the end throws UsageError `RANGE_NOT_SATISFIABLE`); null
   * when the key is absent. The ETag is that of the bytes returned.
   */
  get(key: string, opts?: { range?: ByteRange }): Promise<{ body: Buffer; etag: string } | null>;

  /**
   * Reads the whole object into `into` from its start, retried like get, and returns the
   * object's size; null when the key is absent. An object larger than `into` is not read
   * beyond what fits: its size (greater than `into.length`) is returned, so a caller that
   * expects an exact size sees the mismatch. Optional: readObjectInto falls back to get.
   * Why: a download receives straight into memory it reuses (no copy, no garbage per object).
   */
  getInto?(key: string, into: Uint8Array): Promise<number | null>;

  /** Size and ETag of `key`, or null when it is absent. */
  head(key: string): Promise<ObjectInfo | null>;

  /** Every object whose key starts with `prefix` (paging internally), in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  /**
   * Optional, for backends where an object's size, ETag and time cost a call per object (a
   * directory: one lstat per file; S3 listings carry them for free, so S3 has neither):
   * listKeys gives the keys `list` would give without those facts, and listExcept gives what
   * `list` gives minus the keys `skip` takes, looking only at the others.
   */
  listKeys?(prefix: string): AsyncIterable<string>;
  listExcept?(prefix: string, skip: (key: string) => boolean): AsyncIterable<ObjectInfo>;

  /** Removes `key`; removing an absent key succeeds. */
  delete(key: string): Promise<void>;

  /**
   * Optional, for backends whose writes go through a file of their own first (a directory:
   * a temp file beside the target, renamed into place): those files a killed writer left,
   * with their size and time, so remote gc can take the old ones (docs/design.md §16). Their
   * keys name the temp file and are valid only for deleteLeftover. S3 has neither: a PUT
   * leaves nothing behind when it fails.
   */
  leftovers?(): AsyncIterable<ObjectInfo>;
  deleteLeftover?(key: string): Promise<void>;

  /** Finds out (once, then cached) whether conditional writes are honoured; leaves no probe object behind. */
  probeCapabilities(): Promise<RemoteCapabilities>;

  /** Releases connections and handles; the remote must not be used afterwards. */
  close(): Promise<void>;
}

/** Reads `key` into `into` as Remote.getInto promises, with a backend's own getInto when it has one. */
export async function readObjectInto(remote: Remote, key: string, into: Uint8Array): Promise<number | null> {
  if (remote.getInto) return remote.getInto(key, into);
  const got = await remote.get(key);
  if (!got) return null;
  if (got.body.length <= into.length) into.set(got.body);
  return got.body.length;
}

/** The keys under `prefix`: the backend's listKeys, else list's keys. */
export async function* listKeysOf(remote: Remote, prefix: string): AsyncIterable<string> {
  if (remote.listKeys) yield* remote.listKeys(prefix);
  else for await (const o of remote.list(prefix)) yield o.key;
}

/**
 * The objects under `prefix` whose key `skip` does not take, as `list` gives them: with a
 * backend's listExcept, only the kept ones are looked at, so remote gc pays for the
 * unreferenced chunks, not for the million referenced ones (docs/design.md §16).
 */
export async function* listObjectsExcept(remote: Remote, prefix: string, skip: (key: string) => boolean): AsyncIterable<ObjectInfo> {
  if (remote.listExcept) yield* remote.listExcept(prefix, skip);
  else for await (const o of remote.list(prefix)) if (!skip(o.key)) yield o;
}

/** Names the directory backend uses for its own files; keys may not collide with them. */
export const RESERVED_NAME_PREFIX = '.~modelctl-';

/**
 * Throws UsageError `INVALID_REMOTE_KEY` unless `key` is a safe relative `/`-separated key:
 * non-empty, no leading `/`, no empty, `.` or `..` segment, no backslash, NUL or control
 * character, no segment starting with the directory backend's reserved prefix.
 */
export function assertValidKey(key: string): void {
  const reason = invalidKeyReason(key);
  if (reason !== undefined) {
    throw new UsageError('INVALID_REMOTE_KEY', `invalid remote key ${JSON.stringify(key)}: ${reason}`, {
      hint: 'remote keys are relative paths like chunks/<sha256> or models/<name>/stages/<stage>.json',
    });
  }
}

/** Like assertValidKey for a list prefix: may be empty and may end with `/`. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  // A partial last segment ("chunks/ab") is fine; it is validated like a key.
  assertValidKey(trimmed);
}

function invalidKeyReason(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'empty';
  if (key.length > 1024) return 'longer than 1024 characters';
  if (key.startsWith('/')) return 'absolute (leading "/")';
  if (key.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'contains NUL or a control character';
  for (const segment of key.split('/')) {
    if (segment === '') return 'empty path segment (trailing or doubled "/")';
    if (segment === '.' || segment === '..') return `"${segment}" segment`;
    if (segment.startsWith(RESERVED_NAME_PREFIX)) return `segment starts with reserved "${RESERVED_NAME_PREFIX}"`;
  }
  return undefined;
}

/** A `Content-Range: bytes start-end/total` header's numbers (`total` null for `*`), or null when it is not one. */
export function parseContentRange(text: string | undefined): { start: number; end: number; total: number | null } | null {
  const m = text === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(text.trim());
  return m === null ? null : { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** Throws UsageError `INVALID_RANGE` unless `range` is a non-negative, ordered, safe-integer range. */
export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new UsageError('INVALID_RANGE', `invalid byte range ${start}-${end}: need 0 <= start <= end`);
  }
}

/** Throws UsageError `INVALID_PUT_CONDITION` when a condition asks for both ifAbsent and ifMatch, or an empty ifMatch. */
export function assertValidCondition(condition: PutCondition | undefined): void {
  if (condition === undefined) return;
  if (condition.ifAbsent === true && condition.ifMatch !== undefined) {
    throw new UsageError('INVALID_PUT_CONDITION', 'a put cannot be both ifAbsent and ifMatch');
  }
  if (condition.ifMatch !== undefined && condition.ifMatch.length === 0) {
    throw new UsageError('INVALID_PUT_CONDITION', 'ifMatch needs a non-empty ETag');
  }
}

/** An ETag as the Remote interface carries it: surrounding quotes and a weak `W/` marker removed. */
export function unquoteEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** The error code of a put whose condition did not hold. */
export const PRECONDITION_FAILED = 'PRECONDITION_FAILED';

/** The ConflictError every backend throws when a put's condition does not hold. */
export function preconditionFailed(key: string, condition: PutCondition, cause?: unknown): ConflictError {
  const what = condition.ifAbsent === true ? 'it already exists' : 'it changed since it was read (or is gone)';
  return new ConflictError(PRECONDITION_FAILED, `conditional write of ${key} refused: ${what}`, {
    cause,
    data: { key },
    hint: 'someone else wrote it first: fetch the remote state and try again',
  });
}

/** True when `err` is what a backend throws for a put whose condition did not hold (preconditionFailed). */
export function isPreconditionFailed(err: unknown): err is ConflictError {
  return err instanceof ConflictError && err.code === PRECONDITION_FAILED;
}

/** The UsageError `RANGE_NOT_SATISFIABLE` for a range that starts at or after the object's end. */
export function rangeNotSatisfiable(key: string, range: ByteRange, size?: number): UsageError {
  const of = size === undefined ? '' : ` of a ${size}-byte object`;
  return new UsageError('RANGE_NOT_SATISFIABLE', `byte range ${range.start}-${range.end} of ${key} starts past the end${of}`);
}
