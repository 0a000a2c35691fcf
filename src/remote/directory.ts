/**
 * A remote that is a folder: local, or a mounted share several machines write to. Keys map
 * to files under the root. Every write is a temp file (fsynced, with a reserved hidden name)
 * renamed into place, so readers never see a torn object; conditional writes are correct
 * across processes and hosts: create-if-absent is an atomic `link()` (or, where the file
 * system has no hard links, the key's lock), compare-and-swap holds an `O_EXCL` lock file
 * next to the key while it re-checks the ETag and renames.
 *
 * Unconditional puts and deletes take no lock (chunk uploads must stay cheap), so only
 * conditional writers are serialised against each other; the remote layout only ever
 * changes numbers, tags and stages conditionally. Stale-lock detection compares the lock's
 * mtime with this host's clock: hosts sharing a folder need roughly synchronised clocks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, type BigIntStats, type Dir, type Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConflictError,
  IntegrityError,
  ModelctlError,
  RemoteError,
  UsageError,
  fsError,
  isErrnoException,
} from '../errors.js';
import { registerTempFile, releaseTempFile } from '../store/temp-files.js';
import { maxObjectBytes } from './object-limits.js';
import { probeConditionalWrites } from './probe.js';
import {
  RESERVED_NAME_PREFIX,
  assertValidCondition,
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  preconditionFailed,
  rangeNotSatisfiable,
  unquoteEtag,
  type ByteRange,
  type ObjectInfo,
  type PutCondition,
  type Remote,
  type RemoteCapabilities,
} from './remote.js';
import { backoffDelay, withRetry } from './retry.js';

/** Options of a directory remote. */
export interface DirectoryRemoteOptions {
  /** Absolute path of the root folder; created on the first write. */
  root: string;
  /** Shown in messages; defaults to the root path. */
  displayUrl?: string;
  /** A lock file older than this is considered abandoned (default 30 s). */
  staleLockMs?: number;
  /** How long a conditional write waits for another writer's lock (default 40 s: longer than staleLockMs so an abandoned lock is recovered). */
  lockWaitMs?: number;
}

const TMP_PREFIX = `${RESERVED_NAME_PREFIX}tmp-`;
const LOCK_PREFIX = `${RESERVED_NAME_PREFIX}lock-`;
const BREAKER_PREFIX = `${RESERVED_NAME_PREFIX}break-`;
// Errors that mean "this file system cannot hard-link": fall back to the lock for ifAbsent.
const NO_LINK_CODES = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);
const TRANSIENT_FS_CODES = new Set(['EBUSY', 'EAGAIN', 'EINTR', 'ETXTBSY']);
const HOST = hostname();

/** Opens a directory remote; nothing touches the disk until the first call. */
export function createDirectoryRemote(opts: DirectoryRemoteOptions): Remote {
  return new DirectoryRemote(opts);
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  created: string;
}

class DirectoryRemote implements Remote {
  readonly displayUrl: string;
  private readonly root: string;
  private readonly staleLockMs: number;
  private readonly lockWaitMs: number;
  private readonly knownDirs = new Set<string>();
  private rootIsFolder = false;
  private capabilities: Promise<RemoteCapabilities> | undefined;

  constructor(opts: DirectoryRemoteOptions) {
    this.root = path.resolve(opts.root);
    this.displayUrl = opts.displayUrl ?? this.root;
    this.staleLockMs = opts.staleLockMs ?? 30_000;
    this.lockWaitMs = opts.lockWaitMs ?? 40_000;
  }

  async put(
    key: string,
    body: Buffer,
    opts: { condition?: PutCondition; sha256?: Buffer; retainUntil?: Date } = {},
  ): Promise<{ etag: string }> {
    assertValidKey(key);
    if (opts.retainUntil !== undefined) {
      // A folder has no write-once storage: saying so beats pretending (docs/design.md §16).
      throw new UsageError('OBJECT_LOCK_UNAVAILABLE', `${this.displayUrl} is a folder: it cannot keep objects write-once`, {
        hint: 'use an S3 bucket with Object Lock for a write-once audit trail, or remove events_retention from the remote\'s settings',
      });
    }
    const condition = opts.condition ?? {};
    assertValidCondition(condition);
    if (opts.sha256 !== undefined) {
      // Mirrors S3's server-side ChecksumSHA256 check, so callers see one behaviour everywhere.
      const actual = createHash('sha256').update(body).digest();
      if (!actual.equals(opts.sha256)) {
        throw new IntegrityError('CHECKSUM_MISMATCH', `PUT ${key}: body does not match the sha256 given`, {
          data: { key, expected: opts.sha256.toString('hex'), actual: actual.toString('hex') },
        });
      }
    }
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    try {
      // A folder replaced by a link would carry the write outside the remote.
      await this.assertNoLinkOnTheWay('PUT', key);
      const temp = await this.writeTemp(dir, target, body, key);
      try {
        if (condition.ifAbsent === true) {
          await this.publishIfAbsent(key, temp.path, target, condition);
        } else if (condition.ifMatch !== undefined) {
          const expected = unquoteEtag(condition.ifMatch);
          await this.withKeyLock(key, target, async () => {
            const current = await lstatOrNull(target);
            if (current !== null && !current.isFile()) throw hostileEntry('PUT', key, key, kindOfStat(current));
            if (current === null || etagOf(current) !== expected) throw preconditionFailed(key, condition);
            await renameRetrying(temp.path, target);
          });
        } else {
          await renameRetrying(temp.path, target);
        }
      } finally {
        // After a rename this is a no-op; after link() or a refusal it drops the temp name.
        await fs.rm(temp.path, { force: true }).catch(() => undefined);
        releaseTempFile(temp.path);
      }
      await syncDir(dir);
      return { etag: temp.etag };
    } catch (err) {
      throw dirError('PUT', key, err);
    }
  }

  async get(key: string, opts: { range?: ByteRange } = {}): Promise<{ body: Buffer; etag: string } | null> {
    assertValidKey(key);
    if (opts.range !== undefined) assertValidRange(opts.range);
    const handle = await this.openForRead('GET', key);
    if (handle === null) return null;
    try {
      // ETag and bytes both come from the open descriptor, so a concurrent replace
      // (a rename onto the name) cannot pair old bytes with the new ETag.
      const stat = await handle.stat({ bigint: true });
      if (stat.isDirectory()) return null;
      if (!stat.isFile()) throw hostileEntry('GET', key, key, kindOfStat(stat));
      const size = Number(stat.size);
      let start = 0;
      let length = size;
      if (opts.range !== undefined) {
        if (opts.range.start >= size) throw rangeNotSatisfiable(key, opts.range, size);
        start = opts.range.start;
        length = Math.min(opts.range.end, size - 1) - start + 1;
      } else if (size > maxObjectBytes(key)) {
        throw new IntegrityError('REMOTE_OBJECT_TOO_LARGE', `GET ${key}: ${size} bytes on ${this.displayUrl}, more than any ${key.split('/')[0]} document may hold (${maxObjectBytes(key)})`, {
          data: { key, size, limit: maxObjectBytes(key) },
          hint: 'the remote holds hostile or corrupted content; remove that file',
        });
      }
      const body = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(body, done, length - done, start + done);
        if (bytesRead === 0) {
          throw new IntegrityError('SHORT_READ', `GET ${key}: file ended after ${done} of ${length} bytes`);
        }
        done += bytesRead;
      }
      return { body, etag: etagOf(stat) };
    } catch (err) {
      if (isErrnoException(err, 'EISDIR')) return null;
      throw dirError('GET', key, err);
    } finally {
      await handle.close();
    }
  }

  async getInto(key: string, into: Uint8Array): Promise<number | null> {
    assertValidKey(key);
    const handle = await this.openForRead('GET', key);
    if (handle === null) return null;
    try {
      const stat = await handle.stat({ bigint: true });
      const size = Number(stat.size);
      if (stat.isDirectory()) return null;
      if (!stat.isFile()) throw hostileEntry('GET', key, key, kindOfStat(stat));
      // Never more than fits: a larger object is reported by its size, not read.
      if (size > into.length) return size;
      for (let done = 0; done < size; ) {
        const { bytesRead } = await handle.read(into, done, size - done, done);
        if (bytesRead === 0) throw new IntegrityError('SHORT_READ', `GET ${key}: file ended after ${done} of ${size} bytes`);
        done += bytesRead;
      }
      return size;
    } catch (err) {
      if (isErrnoException(err, 'EISDIR')) return null;
      throw dirError('GET', key, err);
    } finally {
      await handle.close();
    }
  }

  /** Opens `key` for reading, refusing links and special files on the way; null when absent. */
  private async openForRead(op: string, key: string): Promise<fs.FileHandle | null> {
    try {
      await this.assertNoLinkOnTheWay(op, key);
      // Non-blocking: a FIFO planted under the key must not hang the open (and with it the
      // process: no signal frees a thread blocked there); no link followed at the end either.
      return await fs.open(this.pathOf(key), READ_FLAGS);
    } catch (err) {
      if (isAbsent(err)) return null;
      if (isErrnoException(err, 'ELOOP')) throw hostileEntry(op, key, key, 'symbolic link');
      throw dirError(op, key, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      await this.assertNoLinkOnTheWay('HEAD', key);
      const stat = await lstatOrNull(this.pathOf(key));
      if (stat === null || stat.isDirectory()) return null;
      if (!stat.isFile()) throw hostileEntry('HEAD', key, key, kindOfStat(stat));
      return { key, size: Number(stat.size), etag: etagOf(stat), lastModified: new Date(Number(stat.mtimeMs)) };
    } catch (err) {
      throw dirError('HEAD', key, err);
    }
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.listExcept(prefix, () => false);
  }

  listExcept(prefix: string, skip: (key: string) => boolean): AsyncIterable<ObjectInfo> {
    return this.listing(prefix, (start, dirKey) => this.walk(start, dirKey, (key) => !key.startsWith(prefix) || skip(key)));
  }

  listKeys(prefix: string): AsyncIterable<string> {
    return this.listing(prefix, async function* (this: DirectoryRemote, start: string, dirKey: string) {
      for await (const batch of this.walkBatches(start, dirKey)) yield* batch.filter((key) => key.startsWith(prefix));
    }.bind(this));
  }

  /** A listing under `prefix`: checked, started in the one folder that can hold matches, errors named. */
  private async *listing<T>(prefix: string, walk: (start: string, dirKey: string) => AsyncIterable<T>): AsyncIterable<T> {
    assertValidPrefix(prefix);
    // Only the folder named by the prefix's complete segments can hold matches.
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const start = dirKey === '' ? this.root : this.pathOf(dirKey.slice(0, -1));
    try {
      await this.assertRootIsFolder();
      if (dirKey !== '') await this.assertNoLinkOnTheWay('LIST', dirKey, { leaf: true });
      yield* walk(start, dirKey);
    } catch (err) {
      throw dirError('LIST', prefix === '' ? '(root)' : prefix, err);
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.assertNoLinkOnTheWay('DELETE', key);
      await withRetry(() => fs.unlink(this.pathOf(key)), { retryable: isTransientFsError });
    } catch (err) {
      if (isAbsent(err) || isErrnoException(err, 'EISDIR')) return;
      throw dirError('DELETE', key, err);
    }
  }

  async *leftovers(): AsyncIterable<ObjectInfo> {
    try {
      await this.assertRootIsFolder();
      for await (const batch of this.walkBatches(this.root, '', { leftovers: true })) {
        const stats = await Promise.all(batch.map((key) => lstatOrNull(this.pathOf(key))));
        for (let j = 0; j < batch.length; j++) {
          const stat = stats[j];
          if (stat?.isFile()) yield { key: batch[j], size: Number(stat.size), etag: etagOf(stat), lastModified: new Date(Number(stat.mtimeMs)) };
        }
      }
    } catch (err) {
      throw dirError('LIST', '(temp files)', err);
    }
  }

  async deleteLeftover(key: string): Promise<void> {
    // Only a temp file's key, as leftovers() gives it: the folder part is a valid key's, the
    // name a temp file's (never a lock, which its owner may still hold).
    const slash = key.lastIndexOf('/');
    if (!key.slice(slash + 1).startsWith(TMP_PREFIX) || /[/\\\0]/.test(key.slice(slash + 1))) throw new UsageError('INVALID_REMOTE_KEY', `not a temp file of this remote: ${key}`);
    if (slash >= 0) assertValidKey(`${key.slice(0, slash)}/x`);
    try {
      await this.assertNoLinkOnTheWay('DELETE', key);
      await fs.unlink(this.pathOf(key));
    } catch (err) {
      if (isAbsent(err)) return;
      throw dirError('DELETE', key, err);
    }
  }

  probeCapabilities(): Promise<RemoteCapabilities> {
    this.capabilities ??= probeConditionalWrites(this).then(
      (conditionalWrites) => ({ conditionalWrites }),
      (err: unknown) => {
        this.capabilities = undefined;
        throw err;
      },
    );
    return this.capabilities;
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  private pathOf(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  private async ensureDir(dir: string, key: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    // mkdir -p follows links: look again at what it walked through.
    await this.assertNoLinkOnTheWay('PUT', key);
    this.knownDirs.add(dir);
  }

  /**
   * Refuses (UsageError REMOTE_NOT_A_FOLDER, exit 2) a root that is a file, or that sits
   * under one: reads would otherwise find "no registry" there and a push fail as a network
   * error worth retrying, while only another URL helps. An absent root is fine (created on
   * the first write); one seen as a folder is not looked at again.
   */
  private async assertRootIsFolder(): Promise<void> {
    if (this.rootIsFolder) return;
    let st: BigIntStats;
    try {
      st = await fs.stat(this.root, { bigint: true }); // the root may be a link (a mounted share)
    } catch (err) {
      if (isErrnoException(err, 'ENOENT')) return;
      if (!isErrnoException(err, 'ENOTDIR')) throw err;
      throw notAFolder(this.displayUrl, await this.fileAbove());
    }
    if (!st.isDirectory()) throw notAFolder(this.displayUrl, this.root);
    this.rootIsFolder = true;
  }

  /** The nearest path above the root that exists: the file that stops the root being made. */
  private async fileAbove(): Promise<string> {
    let p = path.dirname(this.root);
    while ((await lstatOrNull(p)) === null && path.dirname(p) !== p) p = path.dirname(p);
    return p;
  }

  /**
   * Refuses (IntegrityError REMOTE_SYMLINK, exit 6, naming the path) when a folder between
   * the root and `key` — or, with `leaf`, the key itself — is a symbolic link or not a
   * folder: a link planted in the remote (chunks/ → elsewhere) must never carry a read or a
   * write outside it. The root itself may be a link (a mounted share often is). A missing
   * component ends the check: nothing beyond it exists yet.
   */
  private async assertNoLinkOnTheWay(op: string, key: string, opts: { leaf?: boolean } = {}): Promise<void> {
    await this.assertRootIsFolder();
    const parts = key.split('/').filter((p) => p !== '');
    const upto = opts.leaf ? parts.length : parts.length - 1;
    let current = this.root;
    for (let i = 0; i < upto; i++) {
      current = path.join(current, parts[i]);
      const st = await lstatOrNull(current);
      if (st === null) return;
      if (st.isSymbolicLink()) throw hostileEntry(op, key, parts.slice(0, i + 1).join('/'), 'symbolic link');
      if (!st.isDirectory()) throw hostileEntry(op, key, parts.slice(0, i + 1).join('/'), kindOfStat(st));
    }
  }

  /**
   * Writes `body` to a fresh hidden temp file beside `target` and fsyncs it. Its mtime is
   * set past the current target's: the ETag is (inode, size, mtime), and coarse kernel
   * timestamps plus inode reuse could otherwise give a later replacement the same ETag as
   * an earlier one, letting a stale compare-and-swap succeed (the ABA problem).
   */
  private async writeTemp(dir: string, target: string, body: Buffer, key: string): Promise<{ path: string; etag: string }> {
    const tempPath = path.join(dir, TMP_PREFIX + randomBytes(9).toString('hex'));
    // On the shared remote too, Ctrl-C must not leave a temp file behind. Registered before
    // the open: the file exists as soon as the open runs, before its callback does.
    registerTempFile(tempPath);
    let handle: fs.FileHandle;
    try {
      await this.ensureDir(dir, key);
      handle = await fs.open(tempPath, 'wx', 0o644);
    } catch (err) {
      if (!isErrnoException(err, 'ENOENT')) {
        releaseTempFile(tempPath);
        throw err;
      }
      // The folder vanished since we cached it (someone pruned empty folders): recreate once.
      this.knownDirs.delete(dir);
      await this.ensureDir(dir, key);
      handle = await fs.open(tempPath, 'wx', 0o644).catch((e: unknown) => {
        releaseTempFile(tempPath);
        throw e;
      });
    }
    try {
      let written = 0;
      while (written < body.length) {
        const { bytesWritten } = await handle.write(body, written, body.length - written);
        written += bytesWritten;
      }
      const previous = await lstatOrNull(target).catch(() => null);
      const mtime = uniqueMtimeSeconds(previous);
      await handle.utimes(mtime, mtime);
      await handle.sync();
      const stat = await handle.stat({ bigint: true });
      return { path: tempPath, etag: etagOf(stat) };
    } catch (err) {
      await fs.rm(tempPath, { force: true }).catch(() => undefined);
      releaseTempFile(tempPath);
      throw err;
    } finally {
      await handle.close();
    }
  }

  private async publishIfAbsent(key: string, temp: string, target: string, condition: PutCondition): Promise<void> {
    try {
      // link() fails with EEXIST if the name exists: one atomic step, whoever races us.
      await fs.link(temp, target);
      return;
    } catch (err) {
      if (isErrnoException(err, 'EEXIST')) throw preconditionFailed(key, condition, err);
      if (!(isErrnoException(err) && NO_LINK_CODES.has(err.code ?? ''))) throw err;
    }
    await this.withKeyLock(key, target, async () => {
      if ((await lstatOrNull(target)) !== null) throw preconditionFailed(key, condition);
      await renameRetrying(temp, target);
    });
  }

  /** Runs `fn` while holding the key's lock file, created with O_EXCL so only one process on any host holds it. */
  private async withKeyLock<T>(key: string, target: string, fn: () => Promise<T>): Promise<T> {
    const lockPath = lockPathOf(target);
    const owner: LockOwner = { pid: process.pid, host: HOST, token: randomBytes(12).toString('hex'), created: new Date().toISOString() };
    const deadline = Date.now() + this.lockWaitMs;
    for (let attempt = 0; ; attempt++) {
      if (await tryCreateLock(lockPath, owner)) break;
      if (await this.isStale(lockPath)) {
        await this.breakStaleLock(lockPath);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new ConflictError('REMOTE_LOCKED', `${key} on ${this.displayUrl} stayed locked for ${Math.round(this.lockWaitMs / 1000)} s`, {
          data: { key, lock: lockPath },
          hint: `another modelctl is writing it; if none is running, delete ${lockPath}`,
        });
      }
      // Locks are held for a stat and a rename: poll briefly, spread out by jitter.
      await sleep(5 + backoffDelay(Math.min(attempt, 6), 5, 200));
    }
    try {
      return await fn();
    } finally {
      await releaseLock(lockPath, owner.token);
    }
  }

  private async isStale(lockPath: string): Promise<boolean> {
    let stat: BigIntStats;
    let text: string;
    try {
      stat = await fs.lstat(lockPath, { bigint: true });
      text = await readSmallRegularFile(lockPath);
    } catch (err) {
      if (isAbsent(err)) return false; // released meanwhile: just retry the create
      throw err;
    }
    const ageMs = Date.now() - Number(stat.mtimeMs);
    if (ageMs > this.staleLockMs) return true;
    const holder = parseOwner(text);
    // A dead pid is only conclusive on the same host; elsewhere wait for the age limit.
    return holder !== undefined && holder.host === HOST && !isProcessAlive(holder.pid);
  }

  /**
   * Removes an abandoned lock. Two waiters may both judge it stale; a second, short-lived
   * "breaker" lock makes only one of them re-check and remove it, so a waiter never
   * deletes the fresh lock the other one has just taken.
   */
  private async breakStaleLock(lockPath: string): Promise<void> {
    const breaker = path.join(path.dirname(lockPath), BREAKER_PREFIX + path.basename(lockPath).slice(LOCK_PREFIX.length));
    const breakerOwner: LockOwner = { pid: process.pid, host: HOST, token: randomBytes(12).toString('hex'), created: new Date().toISOString() };
    if (!(await tryCreateLock(breaker, breakerOwner))) {
      const stat = await lstatOrNull(breaker);
      // A breaker outlives its use only if its process died mid-break.
      if (stat !== null && Date.now() - Number(stat.mtimeMs) > this.staleLockMs) await fs.rm(breaker, { force: true });
      await sleep(5 + Math.random() * 20);
      return;
    }
    try {
      if (await this.isStale(lockPath)) await fs.rm(lockPath, { force: true });
    } finally {
      await releaseLock(breaker, breakerOwner.token);
    }
  }

  private async *walk(dir: string, dirKey: string, skip: (key: string) => boolean): AsyncGenerator<ObjectInfo> {
    // Stat in batches: thousands of chunk files one by one would be latency-bound on a share.
    for await (const all of this.walkBatches(dir, dirKey)) {
      const names = all.filter((key) => !skip(key));
      const stats = await Promise.all(names.map((key) => lstatOrNull(this.pathOf(key))));
      for (let j = 0; j < names.length; j++) {
        const stat = stats[j];
        if (stat === null || stat === undefined || !stat.isFile()) continue;
        yield { key: names[j], size: Number(stat.size), etag: etagOf(stat), lastModified: new Date(Number(stat.mtimeMs)) };
      }
    }
  }

  /** The keys of the regular files under `dir` (by their directory entries, no stat), 64 at a time. */
  private async *walkBatches(dir: string, dirKey: string, opts: { leftovers?: boolean } = {}): AsyncGenerator<string[]> {
    // Streamed (opendir), not readdir: chunks/ of a large remote holds a million names, and
    // remote gc lists it whole; memory stays one batch, not one entry per file.
    let handle: Dir;
    try {
      handle = await fs.opendir(dir, { bufferSize: 256 });
    } catch (err) {
      if (isAbsent(err)) return;
      throw err;
    }
    const subdirs: string[] = [];
    let batch: string[] = [];
    for await (const entry of handle) {
      // The backend's own files are never objects; with `leftovers`, its temp files are all
      // that is listed (remote gc takes the old ones).
      if (entry.name.startsWith(RESERVED_NAME_PREFIX)) {
        if (opts.leftovers && entry.name.startsWith(TMP_PREFIX) && entry.isFile()) batch.push(dirKey + entry.name);
        continue;
      }
      if (entry.isDirectory()) subdirs.push(entry.name);
      else if (opts.leftovers) continue;
      else if (entry.isFile()) batch.push(dirKey + entry.name);
      // Never followed, never skipped in silence: a link or a FIFO in a remote is planted.
      else throw hostileEntry('LIST', dirKey, dirKey + entry.name, entry.isSymbolicLink() ? 'symbolic link' : kindOfDirent(entry));
      if (batch.length === 64) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
    for (const name of subdirs) yield* this.walkBatches(path.join(dir, name), `${dirKey}${name}/`, opts);
  }
}

/**
 * The ETag of a file: inode, size and mtime (ns). A replace always makes a new inode (the
 * temp file exists while the old one does) with a newer mtime (see writeTemp), so the ETag
 * changes on every replace, and reading it costs a stat, not a hash of the bytes.
 */
function etagOf(stat: BigIntStats): string {
  return `${stat.ino.toString(36)}-${stat.size.toString(36)}-${stat.mtimeNs.toString(36)}`;
}

/** Wall-clock time in seconds (fractional), strictly after the previous file's mtime. */
function uniqueMtimeSeconds(previous: BigIntStats | null): number {
  // A random sub-millisecond part keeps writers that share a millisecond apart.
  const nowNs = BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1000)) * 1000n;
  // 10 µs margin: utimes goes through a double, which keeps ~0.25 µs at today's epoch.
  const floorNs = previous === null ? 0n : previous.mtimeNs + 10_000n;
  const ns = nowNs > floorNs ? nowNs : floorNs;
  return Number(ns / 1000n) / 1e6;
}

function lockPathOf(target: string): string {
  const base = path.basename(target);
  // Keep the lock's name under NAME_MAX (255) even for long keys.
  const name = base.length <= 200 ? base : createHash('sha256').update(base).digest('hex').slice(0, 40);
  return path.join(path.dirname(target), LOCK_PREFIX + name);
}

async function tryCreateLock(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(lockPath, 'wx', 0o644);
  } catch (err) {
    if (isErrnoException(err, 'EEXIST')) return false;
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

async function releaseLock(lockPath: string, token: string): Promise<void> {
  try {
    // If our lock was judged stale and broken, the file is someone else's now: leave it.
    const holder = parseOwner(await readSmallRegularFile(lockPath));
    if (holder?.token === token) await fs.rm(lockPath, { force: true });
  } catch (err) {
    if (!isAbsent(err)) throw err;
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, host, token, created } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string' || typeof token !== 'string') return undefined;
    return { pid, host, token, created: typeof created === 'string' ? created : '' };
  } catch {
    return undefined; // being written right now, or not ours
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrnoException(err, 'ESRCH'); // EPERM: alive, owned by another user
  }
}

/** Open flags of every read: non-blocking (a FIFO opens at once, then fstat refuses it), no link followed. */
const READ_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW;

/** A folder remote whose root is a file (or lies under `file`): exit 2, since only another URL helps. */
function notAFolder(displayUrl: string, file: string): UsageError {
  return new UsageError('REMOTE_NOT_A_FOLDER', `the folder remote ${displayUrl} cannot be used: ${file} is a file, not a folder`, {
    data: { remote: displayUrl, path: file },
    hint: 'check the remote\'s path (`modelctl remote ls`); a folder remote is a folder, or a path where one can be created',
  });
}

/** A link, FIFO, socket or device found in the remote folder: hostile content (exit 6). */
function hostileEntry(op: string, key: string, where: string, kind: string): IntegrityError {
  return new IntegrityError('REMOTE_NOT_A_FILE', `${op} ${key}: '${where}' in the remote folder is a ${kind}; modelctl only reads and writes plain files and folders there`, {
    data: { key, path: where, kind, operation: op },
    hint: `someone planted it: remove '${where}' from the remote folder (and check who can write there)`,
  });
}

function kindOfStat(st: BigIntStats): string {
  return st.isSymbolicLink() ? 'symbolic link' : st.isFIFO() ? 'FIFO (named pipe)' : st.isSocket() ? 'socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'device' : 'special file';
}

function kindOfDirent(d: Dirent): string {
  return d.isFIFO() ? 'FIFO (named pipe)' : d.isSocket() ? 'socket' : d.isCharacterDevice() || d.isBlockDevice() ? 'device' : 'special file';
}

/** A lock file's text: a regular file of at most 4 KiB, opened without blocking. */
async function readSmallRegularFile(p: string): Promise<string> {
  const handle = await fs.open(p, READ_FLAGS);
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > 4096) return '';
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function lstatOrNull(p: string): Promise<BigIntStats | null> {
  try {
    return await fs.lstat(p, { bigint: true });
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
}


function renameRetrying(from: string, to: string): Promise<void> {
  return withRetry(() => fs.rename(from, to), { retryable: isTransientFsError });
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; some file systems (and shares) cannot fsync a folder.
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NONBLOCK);
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function isAbsent(err: unknown): boolean {
  return isErrnoException(err, 'ENOENT') || isErrnoException(err, 'ENOTDIR');
}

function isTransientFsError(err: unknown): boolean {
  return isErrnoException(err) && TRANSIENT_FS_CODES.has(err.code ?? '');
}

/** Maps a file-system failure to the remote's error vocabulary: permissions and I/O trouble on the remote are exit 7. */
function dirError(op: string, key: string, err: unknown): ModelctlError {
  if (err instanceof ModelctlError) return err;
  if (isErrnoException(err, 'ENOSPC') || isErrnoException(err, 'EDQUOT')) return fsError(err, `${op} ${key}`);
  if (isErrnoException(err)) {
    const denied = err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS';
    return new RemoteError(denied ? 'REMOTE_ACCESS_DENIED' : 'REMOTE_IO_ERROR', `${op} ${key}: ${err.message}`, {
      cause: err,
      data: { key, operation: op },
      hint: denied
        ? 'check that this user may write the remote folder (and that the share is mounted read-write)'
        : 'check that the remote folder (or the share it is on) is reachable, then run the command again',
    });
  }
  return new RemoteError('REMOTE_IO_ERROR', `${op} ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
