import { closeSync, constants as fsConstants, fstatSync, ftruncateSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { IntegrityError, ModelctlError, fsError, isErrnoException } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import { decodeDoc, fileListSchema, keys } from '../core/remote-layout.js';
import { readObjectInto, type Remote } from '../remote/remote.js';
import { zeroChunkCutsAsListed, type ChunkJobVerdict } from '../store/chunk-check.js';
import { ChunkCheckPool, SLOT_BYTES, checkingThreads } from '../store/chunk-check-pool.js';
import { fileDigestFromChunks } from '../store/file-digest.js';
import { BackgroundFlush, fsyncFolders } from '../store/file-flush.js';
import { assertSpaceFor } from '../store/free-space.js';
import { CHUNKING } from '../store/gear.js';
import type { ChunkRef } from '../store/hash-file.js';
import { writeTransaction } from '../store/index-db.js';
import { openDirect } from '../store/direct-io.js';
import { fileChunks, localChunkSource, objectChunkCount, recordObject } from '../store/version-records.js';
import { isZeroChunk } from '../store/zero-chunks.js';
import type { Repository } from '../workspace/repository.js';
import type { ProgressListener } from './transfer-progress.js';

export interface DownloadStats {
  files: number;
  chunksDownloaded: number;
  chunksReused: number;
  bytesDownloaded: number;
}

/** A file being downloaded waits in the store's tmp/ as `partial-<file digest>` (the resume point). */
const PARTIAL_PREFIX = 'partial-';

/** A file being downloaded: its partial file's descriptors, the length an earlier try left, its flusher. */
interface PartialFile {
  fd: number;
  /** An O_DIRECT descriptor of the same file, or -1. */
  directFd: number;
  have: number;
  flush: BackgroundFlush;
  /** A chunk of it failed: its queued chunks do not start. */
  broken: boolean;
}

/** Slots beyond the requests in flight: chunks being checked and written while the next ones arrive. */
const EXTRA_SLOTS = 4;
/** Files this big of a throwaway store are written through O_DIRECT where the file system allows. */
const DIRECT_FILE_BYTES = 8 * 1024 * 1024;
/** Downloaded objects recorded in the index together (or fewer, once their bytes reach BATCH_BYTES). */
const BATCH_OBJECTS = 256;
const BATCH_BYTES = 256 * 1024 * 1024;

/**
 * Makes every file of `files` present in the local store, fetching only chunks the store
 * lacks: bytes already in local objects are copied, a partial file left by an interrupted
 * pull is checked chunk by chunk and kept where it checks out. Every chunk is checked
 * before it is written into the file: its sha256 against its name and length, and the
 * chunker's cut points against the list (so a list of genuine chunks cut elsewhere is
 * refused); the chunk list itself is checked against the file digest and size first.
 *
 * How (docs/design.md §7): chunks are received straight into a few reused slots of shared
 * memory, and checked and written by checking threads (chunk-check-pool.ts), so this thread
 * only talks to the network; memory stays flat whatever the size; the partial file is
 * flushed to disk in the background as it grows.
 */
export async function downloadObjects(
  repo: Repository,
  remote: Remote,
  files: readonly ManifestFile[],
  jobs: number,
  onProgress?: ProgressListener,
): Promise<{ stats: DownloadStats; verified: Set<string> }> {
  // The objects this call verified and stored: checkout need not hash them again.
  const verified = new Set<string>();
  const stats: DownloadStats = { files: 0, chunksDownloaded: 0, chunksReused: 0, bytesDownloaded: 0 };
  // Files whose object the store holds already: their chunks count as reused. An object an
  // interrupted pull adopted but did not record yet has no index row: its chunk list is
  // fetched (small) and it is recorded with this pull's batch, after its folder's fsync.
  const { wanted, present } = splitByStore(repo, files);
  const unrecorded: ManifestFile[] = [];
  for (const f of present.values()) {
    const count = f.size === 0 ? 0 : f.chunk ? 1 : objectChunkCount(repo.db, f.digest);
    if (count === null) unrecorded.push(f);
    else stats.chunksReused += count;
  }
  if (wanted.size === 0 && unrecorded.length === 0) return { stats, verified };
  const limit = pLimit(jobs);

  // Chunk lists first (small), each checked against the file digest and size.
  const lists = new Map<string, ChunkRef[]>();
  await Promise.all(
    [...wanted.values(), ...unrecorded].map((f) =>
      limit(async () => {
        lists.set(f.digest, await chunkListOf(repo, remote, f));
      }),
    ),
  );
  // What the partial files will take on disk: zero chunks stay holes. Refused before a
  // byte is downloaded when it cannot fit (partials from an earlier try count as written).
  const earlier = partialSizes(repo.store.tmpDir, wanted);
  const needed = [...wanted.values()].reduce((sum, f) => {
    const have = earlier.get(f.digest) ?? 0;
    // A chunk is at most 64 MiB: a length beyond that is a lie the download itself refuses
    // (CORRUPT_CHUNK, exit 6), not a reason to call the disk full.
    return sum + lists.get(f.digest)!.reduce((s, c) => s + (c.offset + c.length <= have || isZeroChunk(c.digest, c.length) ? 0 : Math.min(c.length, 64 * 1024 * 1024)), 0);
  }, 0);
  assertSpaceFor(repo.store.tmpDir, needed, `pulling ${wanted.size} file${wanted.size === 1 ? '' : 's'}`, repo.metaDir);
  const bytesTotal = [...wanted.values()].reduce((s, f) => s + f.size, 0);
  let bytesDone = 0;
  let itemsDone = 0;
  const itemsTotal = [...lists.values()].reduce((s, l) => s + l.length, 0);
  const progress = () => onProgress?.({ phase: 'downloading', bytesDone, bytesTotal, itemsDone, itemsTotal });

  const pool = new ChunkCheckPool(jobs + EXTRA_SLOTS, checkingThreads(bytesTotal, repo.env));
  // Files in parallel (many small files), chunks in parallel (one big file): two limiters,
  // so a file waiting for its chunks never holds a slot a chunk needs.
  const fileLimit = pLimit(jobs);
  // The first failure stops the rest: queued files and chunks do not start, in-flight ones
  // end, and only then is it reported (so no download is still writing when we return).
  let failure: ModelctlError | Error | undefined;
  const one = async (f: ManifestFile) => {
    try {
      await fetchFile(f);
    } catch (err) {
      const fsFailure = isErrnoException(err) || (err instanceof ModelctlError && err.code === 'NO_SPACE');
      failure ??= fsFailure ? fsError(err, `${repo.metaDir} (downloading ${f.path})`) : (err as Error);
    }
  };
  const partialOf = (f: ManifestFile) => join(repo.store.tmpDir, PARTIAL_PREFIX + f.digest);
  const corruptFile = (f: ManifestFile) =>
    new IntegrityError('CORRUPT_FILE', `${f.path} rebuilt from the remote is not chunked as its chunk list says`, { hint: 'the remote holds a crafted chunk list; nothing was stored' });

  const corruptChunk = (f: ManifestFile, c: ChunkRef) =>
    new IntegrityError('CORRUPT_CHUNK', `chunk ${c.digest.slice(0, 12)} of ${f.path} from the remote does not hash to its name`, { hint: 'the remote copy is corrupt or was tampered with; nothing was stored' });

  /** Puts chunk `c` into the partial file (or finds it there), checked. */
  const placeChunk = async (f: ManifestFile, file: PartialFile, c: ChunkRef, last: boolean) => {
    const { fd, directFd, have, flush } = file;
    // No chunk the chunker made is longer than a slot (a manifest may claim anything).
    if (c.length > SLOT_BYTES) throw corruptChunk(f, c);
    if (c.offset >= have && isZeroChunk(c.digest, c.length)) {
      // Past the partial's end the file reads as zeros already: a hole, nothing fetched.
      if (!zeroChunkCutsAsListed(c.length, last)) throw corruptFile(f);
      stats.chunksReused++;
      bytesDone += c.length;
      itemsDone++;
      progress();
      return;
    }
    // Past the partial's end unwritten blocks read as zeros: runs of them stay holes.
    const writeTo = { fd, position: c.offset, sparse: c.offset >= have, directFd };
    const slot = await pool.acquire();
    try {
      // Another file failed, or a chunk of this one: queued chunks do not start.
      if (failure || file.broken) return;
      const job = { length: c.length, digest: c.digest, last };
      // 1. Already in the partial file of an interrupted pull.
      if (c.offset + c.length <= have) {
        const verdict = await pool.check(slot, { ...job, readFrom: { fd, position: c.offset } });
        if (verdict === 'cuts') throw corruptFile(f);
        if (verdict === 'ok') return void stats.chunksReused++;
      }
      // 2. In a local object (another file or version holds the same chunk).
      const local = localChunkSource(repo.db, c.digest);
      if (local && repo.store.hasObject(local.fileDigest)) {
        const verdict = await fromLocalObject(repo.store.objectPath(local.fileDigest), (objectFd) =>
          pool.check(slot, { ...job, readFrom: { fd: objectFd, position: local.offset }, writeTo }),
        );
        if (verdict === 'cuts') throw corruptFile(f);
        if (verdict === 'ok') {
          stats.chunksReused++;
          flush.wrote(c.length);
          return;
        }
        // A damaged local object: fetch instead.
      }
      // 3. From the remote, received straight into the slot.
      const size = await limit(() => (failure || file.broken ? undefined : readObjectInto(remote, keys.chunk(c.digest), pool.view(slot, c.length, c.offset))));
      if (size === undefined) return;
      if (size === null) throw new IntegrityError('CHUNK_MISSING', `chunk ${c.digest.slice(0, 12)} of ${f.path} is missing on the remote`, { hint: 'the version was not pushed completely; push it again from a repository that has it' });
      const verdict = size === c.length ? await pool.check(slot, { ...job, writeTo }) : 'digest';
      if (verdict === 'digest' || verdict === 'short') throw corruptChunk(f, c);
      if (verdict === 'cuts') throw corruptFile(f);
      stats.chunksDownloaded++;
      stats.bytesDownloaded += c.length;
      flush.wrote(c.length);
    } finally {
      pool.release(slot);
      bytesDone += c.length;
      itemsDone++;
      progress();
    }
  };

  const fetchFile = async (f: ManifestFile) => {
    if (failure) return;
    const chunks = lists.get(f.digest)!;
    const partial = partialOf(f);
    let fd: number;
    try {
      // Created when missing, never truncated: an earlier try's bytes are checked and kept.
      fd = openSync(partial, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o600);
    } catch (err) {
      throw fsError(err, partial);
    }
    const flush = new BackgroundFlush(fd, repo.store.durable);
    // Big files of a throwaway store bypass the page cache (chunk-check.ts, writeChunk): they
    // are moved into --out, not read again. A repository's objects are copied into the work
    // tree next, and that copy, reading a GiB back from the disk, took ~2 s more here. Small
    // files would wait on the disk per write.
    const directFd = !repo.store.durable && f.size >= DIRECT_FILE_BYTES ? openDirect(fd) : -1;
    try {
      const have = fstatSync(fd).size;
      // Settled, not raced: every chunk of this file has stopped writing before the file is
      // closed (a late write could otherwise land on a reused descriptor). The first bad
      // chunk stops this file's queued chunks (no point fetching the rest of a gigabyte).
      const file: PartialFile = { fd, directFd, have, flush, broken: false };
      const placed = await Promise.allSettled(
        chunks.map((c, k) =>
          placeChunk(f, file, c, k === chunks.length - 1).catch((err: unknown) => {
            file.broken = true;
            throw err;
          }),
        ),
      );
      const rejected = placed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      if (failure) return; // another file failed meanwhile: this one stays partial (resume point)
      // Only a file ending in a hole (a zero chunk never written) is short of its size here.
      if (fstatSync(fd).size !== f.size) ftruncateSync(fd, f.size);
      await flush.finish();
    } finally {
      await flush.settle();
      if (directFd >= 0) closeSync(directFd);
      closeSync(fd);
    }
    // Every chunk passed its checks as it was written and the list hashes to the file
    // digest: the file is the object. (docs/design.md §7: no second pass over the file.)
    repo.store.adoptTemp(partial, f.digest, batch.dirs);
    batch.objects.push({ f, chunks });
    batch.bytes += f.size;
    verified.add(f.digest);
    stats.files++;
    if (batch.objects.length >= BATCH_OBJECTS || batch.bytes >= BATCH_BYTES) await recordBatch();
  };
  // Objects adopted and not yet in the index: their folders are fsynced once per batch, then
  // one transaction records them all (the index never names an object before its rename is
  // durable, docs/design.md §5). One folder fsync and one index commit per object made a
  // pull of 10,000 small files wait on 20,000 synchronous flushes.
  let batch = { dirs: new Set<string>(), objects: [] as { f: ManifestFile; chunks: ChunkRef[] }[], bytes: 0 };
  for (const f of unrecorded) {
    const chunks = lists.get(f.digest)!;
    stats.chunksReused += chunks.length;
    if (repo.store.durable) batch.dirs.add(dirname(repo.store.objectPath(f.digest)));
    batch.objects.push({ f, chunks });
  }
  const recordBatch = async () => {
    const { dirs, objects } = batch;
    if (objects.length === 0) return;
    batch = { dirs: new Set(), objects: [], bytes: 0 };
    await fsyncFolders(dirs);
    writeTransaction(repo.db, () => {
      for (const o of objects) recordObject(repo.db, o.f.digest, o.f.size, o.chunks);
    });
  };
  try {
    await Promise.all([...wanted.values()].map((f) => fileLimit(() => one(f))));
    // Recorded on failure too: what was adopted was verified whole.
    await recordBatch();
  } catch (err) {
    failure ??= isErrnoException(err) ? fsError(err, repo.metaDir) : (err as Error);
  } finally {
    await pool.close();
  }
  if (failure) {
    // A full disk: the partial files hold the space the user needs back (and gc leaves tmp/
    // alone), so they go; any other failure keeps them for the next pull to resume.
    if (failure instanceof ModelctlError && failure.code === 'NO_SPACE') for (const f of wanted.values()) rmSync(partialOf(f), { force: true });
    throw failure;
  }
  return { stats, verified };
}

/**
 * `files` by whether the store holds their object already, one entry per digest (files with
 * the same bytes are one object): what a download must fetch, and what it reuses.
 */
export function splitByStore(repo: Repository, files: readonly ManifestFile[]): { wanted: Map<string, ManifestFile>; present: Map<string, ManifestFile> } {
  const wanted = new Map<string, ManifestFile>();
  const present = new Map<string, ManifestFile>();
  for (const f of files) (repo.store.hasObject(f.digest) ? present : wanted).set(f.digest, f);
  return { wanted, present };
}

/**
 * The sizes of partial files an interrupted pull left for `wanted` files: one listing of the
 * store's tmp/ rather than a stat of a missing file per file (a pull of 10,000 small files).
 */
function partialSizes(tmpDir: string, wanted: ReadonlyMap<string, ManifestFile>): Map<string, number> {
  const sizes = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return sizes;
  }
  for (const name of names) {
    const digest = name.startsWith(PARTIAL_PREFIX) ? name.slice(PARTIAL_PREFIX.length) : '';
    if (!wanted.has(digest)) continue;
    try {
      sizes.set(digest, statSync(join(tmpDir, name)).size);
    } catch {
      /* gone meanwhile: nothing to count */
    }
  }
  return sizes;
}

/** Runs `use` with a read descriptor of a local object; a missing object yields 'short' (fetch instead). */
async function fromLocalObject(path: string, use: (fd: number) => Promise<ChunkJobVerdict>): Promise<ChunkJobVerdict> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'short';
  }
  try {
    return await use(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file's chunk list: none when empty, the manifest's `chunk` when one, else files/<digest>.json — all checked. */
async function chunkListOf(repo: Repository, remote: Remote, f: ManifestFile): Promise<ChunkRef[]> {
  const bad = (why: string) => new IntegrityError('INVALID_CHUNK_LIST', `the chunk list of ${f.path} is invalid: ${why}`, { hint: 'the remote holds a crafted or corrupted version' });
  if (f.size === 0) {
    if (fileDigestFromChunks([]) !== f.digest) throw bad('an empty file with a non-empty digest');
    return [];
  }
  if (f.chunk) {
    if (fileDigestFromChunks([f.chunk]) !== f.digest) throw bad('its chunk does not hash to the file digest');
    // No chunk is longer than the chunker's maximum: a bigger size is a lie about the chunk
    // (caught here, before it is taken as the space to reserve or the bytes to expect).
    if (f.size > CHUNKING.maxSize) {
      throw new IntegrityError('CORRUPT_CHUNK', `${f.path} claims one chunk of ${f.size} bytes, more than a chunk holds (${CHUNKING.maxSize})`, { hint: 'the remote holds a crafted or corrupted version; nothing was stored' });
    }
    return [{ digest: f.chunk, offset: 0, length: f.size }];
  }
  const known = fileChunks(repo.db, f.digest);
  if (known) return known;
  const key = keys.fileList(f.digest);
  const got = await remote.get(key);
  if (!got) throw new IntegrityError('FILE_LIST_MISSING', `${key} is missing on the remote`, { hint: 'the version was not pushed completely; push it again' });
  const list = decodeDoc(fileListSchema, got.body, key);
  if (list.digest !== f.digest) throw bad('it names another file');
  if (fileDigestFromChunks(list.chunks.map(([d]) => d)) !== f.digest) throw bad('its chunks do not hash to the file digest');
  const size = list.chunks.reduce((s, [, n]) => s + n, 0);
  if (size !== f.size || list.size !== f.size) throw bad(`its chunks add up to ${size} bytes, the manifest says ${f.size}`);
  // The chunker never makes a longer chunk; this also bounds what a download slot holds.
  if (list.chunks.some(([, n]) => n > CHUNKING.maxSize)) throw bad(`a chunk is longer than ${CHUNKING.maxSize} bytes`);
  let offset = 0;
  return list.chunks.map(([digest, length]) => {
    const c = { digest, offset, length };
    offset += length;
    return c;
  });
}
