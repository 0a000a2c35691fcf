/**
 * Downloading one blob into a partial file, verifying it while it streams (its sha256, and/or
 * a caller's follower of the file such as modelctl's chunk hashing on a thread) and resuming with `Range` after a
 * dropped connection or an interrupted run (the partial file is the resume point). Bytes
 * that fail the check are refused: the partial file is removed and nothing is kept.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { IntegrityError, ModelctlError, NotFoundError, fsError, isErrnoException } from '../../errors.js';
import { DIRECT_ALIGN, openDirectHandle, pageAlignedSharedBuffer } from '../../store/direct-io.js';
import type { RegistryRepository } from './registry-repository.js';

/** Bytes gathered before one write: fewer, larger writes than the socket's 16–64 KiB pieces. */
const WRITE_BYTES = 1024 * 1024;
/** Writes of WRITE_BYTES running at once while the socket is read on. */
const WRITES_IN_FLIGHT = 4;
/**
 * Written bytes between two background fdatasyncs: the disk takes the blob while it arrives,
 * so the fsync that makes it durable at the end waits for the last few MiB, not for all of
 * it (measured on 1 GiB here: 0.4 s at the end without, 0.03 s with).
 */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;
const ATTEMPTS = 5;
/** Blocks of a blob read into place by Range GETs (registries on plain HTTP): their size, and the most asked for at once. */
const BLOCK_BYTES = 4 * 1024 * 1024;
/**
 * The block size of a blob that has a second request in flight (few blobs, jobs to spare: a
 * big model file): each Range GET costs the registry a request's work, and docker-registry
 * spent 2.1-2.3 s of CPU serving a GiB as 4 MiB blocks, 1.0-1.1 s as 16 MiB ones or as one
 * GET (its whole-blob answer to curl: 1.1 s).
 */
const BIG_BLOCK_BYTES = 16 * 1024 * 1024;
const MAX_BLOCKS_IN_FLIGHT = 2;
/**
 * Block buffers one blob's download holds at most (asked for, being written, being
 * hashed): 5 × 16 MiB for a big file, 5 × 4 MiB per blob when --jobs blobs share the requests.
 */
const MAX_BLOCKS = MAX_BLOCKS_IN_FLIGHT + 3;

/**
 * Blocks each of `blobs` blobs downloaded at once may ask for at a time so that the requests
 * in flight stay within `--jobs` (a second block only where jobs outnumber the blobs).
 */
export function blocksPerBlob(jobs: number, blobs: number): number {
  return Math.min(MAX_BLOCKS_IN_FLIGHT, Math.max(1, Math.floor(jobs / Math.max(1, Math.min(jobs, blobs)))));
}

/**
 * A second check that follows the file as it is written (modelctl's chunk hashing, on a
 * thread of its own): `written(n)` says the file holds `n` bytes from 0 that will not change
 * (the prefix an earlier attempt left counts), `restart()` that it was truncated to 0.
 */
export interface WrittenFollower {
  written(bytes: number): void;
  restart(): void;
  /** Present when the follower can take the bytes from memory instead of reading the file (then they may be written with O_DIRECT). */
  readonly followsMemory?: boolean;
  /** The file's bytes from `position` as they are being written; resolves when `view` may be reused. */
  hashBytes?(view: Buffer, position: number): Promise<void>;
}

/** How a blob's bytes are checked while they stream. */
export interface DownloadChecks {
  /** Check the bytes against the blob's sha256 (default true); a caller whose follower is a stronger check may leave it out. */
  sha256?: boolean;
  follower?: WrittenFollower;
  /** Reports each `n` bytes newly written. */
  onBytes?: (n: number) => void;
  /** Range GETs one blob may have in flight (blocksPerBlob; default 1; 0: stream it, no blocks). */
  blocksInFlight?: number;
  /** False: no fdatasync at all (a throwaway store's partial file, ObjectStore.durable). Default true. */
  durable?: boolean;
  /**
   * True: the file will not be read again soon (a throwaway store's object, moved into
   * --out), so with a follower that takes bytes from memory, blocks are written through
   * O_DIRECT. A file that is read again (copied into a work tree) would then come from the disk.
   */
  direct?: boolean;
}

/**
 * Makes `partialPath` hold the blob `sha256` (`size` bytes) of `repo`, continuing a partial
 * file left by an earlier attempt. Throws IntegrityError `BLOB_DIGEST_MISMATCH` (6) when the
 * bytes do not hash to the digest or exceed the size (the partial file is removed),
 * NotFoundError `BLOB_MISSING` (3) when the registry lacks the blob, RemoteError (7) after
 * the retries.
 */
export async function downloadBlob(repo: RegistryRepository, sha256: string, size: number, partialPath: string, checksOrOnBytes?: DownloadChecks | ((n: number) => void)): Promise<void> {
  const checks: DownloadChecks = typeof checksOrOnBytes === 'function' ? { onBytes: checksOrOnBytes } : (checksOrOnBytes ?? {});
  const onBytes = checks.onBytes;
  const verifySha = checks.sha256 !== false;
  const follower = checks.follower;
  const syncEvery = checks.durable === false ? Infinity : SYNC_EVERY_BYTES;
  let fh: FileHandle;
  try {
    // 'a+' creates without truncating; positional writes need 'r+'.
    await (await open(partialPath, 'a+', 0o600)).close();
    fh = await open(partialPath, 'r+');
  } catch (err) {
    throw fsError(err, partialPath);
  }
  let failed = false;
  try {
    let have = (await fh.stat()).size;
    let hash: Hash | null = verifySha ? createHash('sha256') : null;
    if (have > size) {
      await fh.truncate(0);
      have = 0;
    }
    const sink = (b: Buffer) => hash?.update(b);
    if (have > 0 && hash) await readPrefix(partialPath, have, sink);
    if (have > 0) follower?.written(have);
    const startOver = async () => {
      await fh.truncate(0);
      have = 0;
      hash = verifySha ? createHash('sha256') : null;
      follower?.restart();
    };
    // Blocks read straight into reused buffers while the registry serves them so; whatever is
    // left (or all of it, over https or on a redirect) is streamed below, from where they stopped.
    const blocks = checks.blocksInFlight ?? 1;
    if (have < size && blocks > 0) have = await readBlocks(repo, sha256, fh, partialPath, have, size, blocks, sink, onBytes, follower, syncEvery, checks.direct === true);
    for (let attempt = 0; have < size || (size === 0 && attempt === 0); attempt++) {
      const got = await repo.getBlob(`sha256:${sha256}`, have);
      if (!got) throw new NotFoundError('BLOB_MISSING', `blob sha256:${sha256.slice(0, 12)} is missing from ${repo.client.registry}/${repo.name}`, { hint: 'the artifact was not pushed completely; push it again' });
      if (got.from === -1) {
        // 416: the registry has fewer bytes than the partial file: it is not this blob's prefix.
        if (attempt + 1 >= ATTEMPTS) throw mismatch(sha256, repo);
        await startOver();
        continue;
      }
      if (got.from === 0 && have > 0) await startOver(); // Range not honoured: the answer starts at byte 0
      try {
        have = await writeStream(fh, partialPath, got.res.stream!, have, size, sink, onBytes, follower, syncEvery);
        break;
      } catch (err) {
        if (err instanceof ModelctlError || attempt + 1 >= ATTEMPTS) throw err;
        have = (await fh.stat()).size; // the connection dropped mid-blob: ask for the rest
      }
    }
    if (have !== size || (hash && hash.digest('hex') !== sha256)) throw mismatch(sha256, repo);
    if (syncEvery !== Infinity) await fh.sync();
  } catch (err) {
    failed = err instanceof IntegrityError;
    throw err;
  } finally {
    await fh.close();
    if (failed) await rm(partialPath, { force: true });
  }
}

function mismatch(sha256: string, repo: RegistryRepository): IntegrityError {
  return new IntegrityError('BLOB_DIGEST_MISMATCH', `blob sha256:${sha256.slice(0, 12)} from ${repo.client.registry}/${repo.name} does not hash to its digest`, {
    hint: 'the registry copy is corrupt or was tampered with; nothing was stored',
  });
}

/**
 * Writes the stream at `offset`, every byte through `sink` on the way; returns the new length.
 * Refuses more than `size` bytes. Up to WRITES_IN_FLIGHT writes run on libuv's pool while the
 * socket keeps being read: awaiting each write paused the socket for it, and the download ran
 * at the disk's latency instead of its throughput (docs/design.md §13, "Transfers").
 */
async function writeStream(fh: FileHandle, path: string, stream: NodeJS.ReadableStream, offset: number, size: number, sink: (b: Buffer) => void, onBytes: ((n: number) => void) | undefined, follower: WrittenFollower | undefined, syncEvery: number): Promise<number> {
  const writes = new PositionalWrites(fh, path, offset, syncEvery, (n, end) => {
    onBytes?.(n);
    follower?.written(end);
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (writes.end + chunk.length > size) {
        (stream as { destroy?: () => void }).destroy?.();
        throw new IntegrityError('BLOB_DIGEST_MISMATCH', `a blob from the registry is longer than the ${size} bytes its descriptor says`, { hint: 'the registry copy is corrupt or was tampered with; nothing was stored' });
      }
      writes.add(chunk);
      sink(chunk);
      if (writes.pendingBytes >= WRITE_BYTES) await writes.flush();
    }
    await writes.flush();
    await writes.drain();
    return writes.end;
  } catch (err) {
    // Keep what arrived intact so the next attempt resumes after it (a dropped connection):
    // the file then ends where the bytes written without a gap end. A failed write ends the
    // download instead of retrying (the checks must see exactly the bytes the file holds).
    if (!(err instanceof ModelctlError)) await writes.flush(false).catch(() => undefined);
    await writes.drain();
    throw err;
  }
}

/**
 * Reads blocks of the blob from `offset` with Range GETs (`inFlight` at a time, each on its
 * own connection, so the registry's per-request latency overlaps the block before) straight into reused buffers
 * (RegistryClient.getRangeInto; docs/design.md §13, "Bodies read into place") and writes them
 * in order, each through `sink` first. Stops at the first block that way cannot serve and
 * returns the end of what the file then holds without a gap (the caller streams the rest).
 */
async function readBlocks(repo: RegistryRepository, sha256: string, fh: FileHandle, path: string, offset: number, size: number, inFlight: number, sink: (b: Buffer) => void, onBytes: ((n: number) => void) | undefined, follower: WrittenFollower | undefined, syncEvery: number, allowDirect: boolean): Promise<number> {
  // O_DIRECT only when the follower takes the bytes from memory: one that reads the file
  // back would then read the disk (2 s per GiB here, against 0.06 s from the page cache).
  const direct = allowDirect && follower?.followsMemory && follower.hashBytes ? await openDirectHandle(fh) : null;
  const writes = new PositionalWrites(fh, path, offset, syncEvery, (n, end) => {
    onBytes?.(n);
    follower?.written(end);
  }, direct);
  // Block memory: page-aligned and shared (O_DIRECT reads it, the follower's thread hashes it).
  // No bigger than the blob needs (a small blob gets a small buffer), plus room for the lead below.
  const blockBytes = Math.min(inFlight >= 2 ? BIG_BLOCK_BYTES : BLOCK_BYTES, size - offset + DIRECT_ALIGN);
  const blockMemory = () => (direct ? Buffer.from(pageAlignedSharedBuffer(blockBytes)) : Buffer.allocUnsafeSlow(blockBytes));
  const free: Buffer[] = [];
  const asked: { view: Buffer; base: Buffer; got: Promise<number | null> }[] = [];
  let next = offset;
  let stopped = false;
  let made = 0;
  const ask = () => {
    while (!stopped && asked.length < inFlight && next < size && (free.length > 0 || made < MAX_BLOCKS)) {
      const base = free.pop() ?? (made++, blockMemory());
      // A resumed file's first block starts as far into its memory as its offset is into a
      // disk block, and ends at a block boundary: from the next one on, blocks are aligned.
      const lead = next % DIRECT_ALIGN;
      const view = base.subarray(lead, lead + Math.min(blockBytes - lead, size - next));
      asked.push({ view, base, got: repo.getBlobRangeInto(`sha256:${sha256}`, next, view).catch(() => null) });
      next += view.length;
    }
  };
  let freed: (() => void) | null = null;
  const release = (base: Buffer) => {
    free.push(base);
    freed?.();
  };
  const hashing: Promise<void>[] = [];
  try {
    for (;;) {
      ask();
      // Every buffer is held by a write or a hash: wait for one to come back, then ask.
      while (asked.length === 0 && next < size && !stopped) {
        await new Promise<void>((r) => (freed = r));
        ask();
      }
      const block = asked.shift();
      if (block === undefined) break;
      if ((await block.got) !== block.view.length) {
        stopped = true;
        break;
      }
      sink(block.view);
      // The buffer is reused once its write, and its hash from memory (direct), are done.
      const hashed = direct ? follower!.hashBytes!(block.view, writes.end) : Promise.resolve();
      hashing.push(hashed);
      writes.add(block.view);
      await writes.flush(true, () => void hashed.then(() => release(block.base)));
    }
    await writes.flush();
    await writes.drain();
    return writes.end;
  } catch (err) {
    await writes.drain().catch(() => undefined); // cuts the file where a failed write began
    throw err;
  } finally {
    stopped = true;
    // Blocks still being read land in buffers nobody uses again; wait so no socket writes into memory after this returns.
    await Promise.all(asked.map((b) => b.got));
    await Promise.all(hashing);
    await direct?.close().catch(() => undefined);
  }
}

/**
 * Writes that overlap, each at its own position; the file's length only ever covers bytes
 * written without a gap. `onWritten(n, end)` reports each write as the bytes from 0 to `end`
 * all are in the file; every `syncEvery` of them (SYNC_EVERY_BYTES, or never for a throwaway store) an fdatasync starts in the background.
 */
class PositionalWrites {
  private pending: Buffer[] = [];
  pendingBytes = 0;
  /** Where the next write goes: the end of what was handed to the writes (and the sink). */
  end: number;
  private readonly inFlight: Promise<void>[] = [];
  /** Writes in the order they were started, until every one before them has finished too. */
  private readonly unsettled: { n: number; end: number; done: boolean }[] = [];
  private syncedTo: number;
  private syncing: Promise<void> | null = null;
  private failedAt = Infinity;
  private firstError: unknown = null;

  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    offset: number,
    /** Bytes between background fdatasyncs (Infinity: none). */
    private readonly syncEvery: number,
    private readonly onWritten: (n: number, end: number) => void,
    /**
     * An O_DIRECT handle of the same file: a single piece whose memory and position are
     * aligned alike has its whole disk blocks written through it (readBlocks' blocks).
     */
    private direct: FileHandle | null = null,
  ) {
    this.end = offset;
    this.syncedTo = offset;
  }

  add(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.end += chunk.length;
  }

  /**
   * Starts one writev of the pieces gathered (no copy into a bigger buffer) and, when `wait`,
   * waits while WRITES_IN_FLIGHT are running; `written` is called once that write has ended
   * (its buffers may then be reused). Throws the first write error (as fsError).
   */
  async flush(wait = true, written?: () => void): Promise<void> {
    if (this.pendingBytes > 0) {
      const bufs = this.pending;
      const n = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
      const entry = { n, end: this.end, done: false };
      this.unsettled.push(entry);
      this.inFlight.push(this.write(bufs, n, this.end - n, entry).finally(written));
    } else {
      written?.();
    }
    while (wait && this.inFlight.length >= WRITES_IN_FLIGHT) await this.inFlight.shift();
    if (this.firstError !== null) throw fsError(this.firstError, this.path);
  }

  /** Waits for every write and sync; after a failed one, cuts the file where the failure began and throws it (as fsError). */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight.shift();
    await this.syncing;
    if (this.firstError === null) return;
    await this.fh.truncate(this.failedAt).catch(() => undefined);
    throw fsError(this.firstError, this.path);
  }

  private async write(bufs: Buffer[], n: number, at: number, entry: { done: boolean }): Promise<void> {
    try {
      // One block whose memory and position are aligned alike: its whole disk blocks through O_DIRECT.
      const whole = this.direct && bufs.length === 1 && at % DIRECT_ALIGN === 0 ? n - (n % DIRECT_ALIGN) : 0;
      if (whole > 0 && (await this.writeDirect(bufs[0]!.subarray(0, whole), at))) {
        await writeAllAt(this.fh, bufs[0]!.subarray(whole), at + whole);
      } else {
        const written = (await this.fh.writev(bufs, at)).bytesWritten;
        if (written < n) await writeAllAt(this.fh, Buffer.concat(bufs, n).subarray(written), at + written);
      }
      entry.done = true;
      this.settle();
    } catch (err) {
      this.fail(at, err);
    }
  }

  /** Writes `view` through the O_DIRECT handle; false (and no more O_DIRECT) when it refuses (EINVAL). */
  private async writeDirect(view: Buffer, at: number): Promise<boolean> {
    try {
      await writeAllAt(this.direct!, view, at);
      return true;
    } catch (err) {
      if (!isErrnoException(err) || err.code !== 'EINVAL') throw err;
      this.direct = null;
      return false;
    }
  }

  /** Reports the writes that now end a gapless prefix of the file, and starts a background sync when enough has accumulated. */
  private settle(): void {
    while (this.unsettled.length > 0 && this.unsettled[0]!.done && this.firstError === null) {
      const w = this.unsettled.shift()!;
      this.onWritten(w.n, w.end);
      if (w.end - this.syncedTo >= this.syncEvery && this.syncing === null) {
        this.syncedTo = w.end;
        this.syncing = this.fh.datasync().then(
          () => {
            this.syncing = null;
          },
          (err: unknown) => {
            this.syncing = null;
            this.fail(0, err); // what is on the disk is unknown: nothing of this attempt is kept
          },
        );
      }
    }
  }

  private fail(at: number, err: unknown): void {
    if (at < this.failedAt) this.failedAt = at;
    this.firstError ??= err;
  }
}

/** Writes all of `view` to `fh` at `at` (a write may take fewer bytes than asked). */
async function writeAllAt(fh: FileHandle, view: Buffer, at: number): Promise<void> {
  for (let done = 0; done < view.length; ) done += (await fh.write(view, done, view.length - done, at + done)).bytesWritten;
}

async function readPrefix(path: string, length: number, sink: (b: Buffer) => void): Promise<void> {
  for await (const c of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) sink(c as Buffer);
}
