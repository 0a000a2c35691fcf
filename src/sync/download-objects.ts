import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { IntegrityError, ModelctlError, fsError, isErrnoException } from '../errors.js';
import { sha256Hex, type ManifestFile } from '../core/manifest.js';
import { decodeDoc, fileListSchema, keys } from '../core/remote-layout.js';
import type { Remote } from '../remote/remote.js';
import { assertSpaceFor } from '../store/free-space.js';
import { readAt, readRange, writeAllAt, writeSparseAt } from '../store/positional-io.js';
import { isZeroChunk } from '../store/zero-chunks.js';
import { fileDigestFromChunks } from '../store/file-digest.js';
import { CHUNKING } from '../store/gear.js';
import { scanCutPoints, type ChunkRef } from '../store/hash-file.js';
import { writeTransaction } from '../store/index-db.js';
import { fileChunks, localChunkSource, recordObject } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { ProgressListener } from './transfer-progress.js';

export interface DownloadStats {
  files: number;
  chunksDownloaded: number;
  chunksReused: number;
  bytesDownloaded: number;
}

/**
 * Makes every file of `files` present in the local store, fetching only chunks the store
 * lacks: bytes already in local objects are copied, a partial file left by an interrupted
 * pull is checked chunk by chunk and kept where it hashes right. Every chunk is verified
 * against its digest on arrival; the chunk list against the file digest and size; and the
 * finished file's chunker cut points against the list before it becomes an object.
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
  const wanted = new Map<string, ManifestFile>();
  for (const f of files) if (!repo.store.hasObject(f.digest)) wanted.set(f.digest, f);
  if (wanted.size === 0) return { stats, verified };
  const limit = pLimit(jobs);

  // Chunk lists first (small), each checked against the file digest and size.
  const lists = new Map<string, ChunkRef[]>();
  await Promise.all(
    [...wanted.values()].map((f) =>
      limit(async () => {
        lists.set(f.digest, await chunkListOf(repo, remote, f));
      }),
    ),
  );
  const bytesTotal = [...wanted.values()].reduce((s, f) => s + f.size, 0);
  // What the partial files will take on disk: zero chunks stay holes. Refused before a
  // byte is downloaded when it cannot fit (partials from an earlier try count as written).
  const needed = [...wanted.values()].reduce((sum, f) => {
    const have = existingSize(join(repo.store.tmpDir, `partial-${f.digest}`));
    // A chunk is at most 64 MiB: a length beyond that is a lie the download itself refuses
    // (CORRUPT_CHUNK, exit 6), not a reason to call the disk full.
    return sum + lists.get(f.digest)!.reduce((s, c) => s + (c.offset + c.length <= have || isZeroChunk(c.digest, c.length) ? 0 : Math.min(c.length, 64 * 1024 * 1024)), 0);
  }, 0);
  assertSpaceFor(repo.store.tmpDir, needed, `pulling ${wanted.size} file${wanted.size === 1 ? '' : 's'}`, repo.metaDir);
  let bytesDone = 0;
  let itemsDone = 0;
  const itemsTotal = [...lists.values()].reduce((s, l) => s + l.length, 0);
  const progress = () => onProgress?.({ phase: 'downloading', bytesDone, bytesTotal, itemsDone, itemsTotal });

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
  const partialOf = (f: ManifestFile) => join(repo.store.tmpDir, `partial-${f.digest}`);
  /** Writes chunk `c` of `f` into the partial file: kept if already right there, else from a local object, else from the remote (verified). */
  const placeChunk = async (fd: number, f: ManifestFile, c: ChunkRef, have: number) => {
    if (c.offset + c.length <= have && sha256Hex(readAt(fd, c.offset, c.length) ?? Buffer.alloc(0)) === c.digest) {
      stats.chunksReused++;
    } else if (c.offset >= have && isZeroChunk(c.digest, c.length)) {
      // Past the partial's end the file reads as zeros already: a hole, nothing fetched.
      stats.chunksReused++;
    } else {
      const local = localChunkSource(repo.db, c.digest);
      let bytes: Buffer | null = null;
      if (local && repo.store.hasObject(local.fileDigest)) {
        bytes = readRange(repo.store.objectPath(local.fileDigest), local.offset, local.length);
        if (sha256Hex(bytes) !== c.digest) bytes = null; // a damaged local object: fetch instead
        else stats.chunksReused++;
      }
      if (!bytes) {
        const got = await remote.get(keys.chunk(c.digest));
        if (!got) throw new IntegrityError('CHUNK_MISSING', `chunk ${c.digest.slice(0, 12)} of ${f.path} is missing on the remote`, { hint: 'the version was not pushed completely; push it again from a repository that has it' });
        if (got.body.length !== c.length || sha256Hex(got.body) !== c.digest) {
          throw new IntegrityError('CORRUPT_CHUNK', `chunk ${c.digest.slice(0, 12)} of ${f.path} from the remote does not hash to its name`, { hint: 'the remote copy is corrupt or was tampered with; nothing was stored' });
        }
        bytes = got.body;
        stats.chunksDownloaded++;
        stats.bytesDownloaded += bytes.length;
      }
      // Past the partial's end unwritten blocks read as zeros: runs of them stay holes.
      if (c.offset >= have) writeSparseAt(fd, bytes, c.offset);
      else writeAllAt(fd, bytes, c.offset);
    }
    bytesDone += c.length;
    itemsDone++;
    progress();
  };
  const fetchFile = async (f: ManifestFile) => {
    if (failure) return;
    const chunks = lists.get(f.digest)!;
    const partial = partialOf(f);
    let fd: number;
    try {
      fd = openSync(partial, existsSync(partial) ? 'r+' : 'w+', 0o600);
    } catch (err) {
      throw fsError(err, partial);
    }
    try {
      const have = fstatSync(fd).size;
      // Settled, not raced: every chunk of this file has stopped writing before the file is
      // closed (a late write could otherwise land on a reused descriptor).
      let broken = false; // a chunk of this file failed: its queued chunks do not start either
      const settled = await Promise.allSettled(
        chunks.map((c) =>
          limit(async () => {
            if (failure || broken) return;
            try {
              await placeChunk(fd, f, c, have);
            } catch (err) {
              broken = true;
              throw err;
            }
          }),
        ),
      );
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      if (failure) return; // another file failed meanwhile: this one stays partial (resume point)
      ftruncateSync(fd, f.size);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Every chunk was verified as it was written and the list hashes to the file digest;
    // what is left to check is that the chunker cuts this file where the list does (a
    // crafted list could cut elsewhere). A boundary scan, without a second sha256 pass.
    const cuts = scanCutPoints(partial);
    if (cuts.length !== chunks.length || chunks.some((c, k) => c.offset + c.length !== cuts[k])) {
      throw new IntegrityError('CORRUPT_FILE', `${f.path} rebuilt from the remote is not chunked as its chunk list says`, { hint: 'the remote holds a crafted chunk list; nothing was stored' });
    }
    repo.store.adoptTemp(partial, f.digest);
    writeTransaction(repo.db, () => recordObject(repo.db, f.digest, f.size, chunks));
    verified.add(f.digest);
    stats.files++;
  };
  await Promise.all([...wanted.values()].map((f) => fileLimit(() => one(f))));
  if (failure) {
    // A full disk: the partial files hold the space the user needs back (and gc leaves tmp/
    // alone), so they go; any other failure keeps them for the next pull to resume.
    if (failure instanceof ModelctlError && failure.code === 'NO_SPACE') for (const f of wanted.values()) rmSync(partialOf(f), { force: true });
    throw failure;
  }
  return { stats, verified };
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
  let offset = 0;
  return list.chunks.map(([digest, length]) => {
    const c = { digest, offset, length };
    offset += length;
    return c;
  });
}

function existingSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
