import { IntegrityError } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import { ChunkMismatch, chunksCover, sendPlainRange, sendVerifiedRange, type PieceSink } from '../store/verified-read.js';
import { fileChunks } from '../store/version-records.js';
import { sameStatKey, tryStatKey, withinRacyWindow, type StatKey } from '../workspace/stat-cache.js';
import type { Repository } from './repository.js';

export type { PieceSink } from '../store/verified-read.js';

/** Sends bytes [start, end) of one file into a sink. */
export type ServedBytes = (start: number, end: number, sink: PieceSink) => Promise<void>;

/**
 * What this process has found intact, per object: the stat key its file had then and the
 * chunks (by index) that hashed to their digests. A chunk is not hashed again while the key
 * holds — objects are never rewritten, and the stat cache's rule applies (every field of the
 * key counts; nothing is remembered under a key within the racy window) — so a client
 * downloading a file in ranges pays each chunk's check once, as a whole download does
 * (docs/design.md §12, "Served bytes are checked"). Per open repository (serve holds one).
 */
const intact = new WeakMap<Repository, Map<string, { key: StatKey; chunks: Set<number> }>>();

function memoryOf(repo: Repository): Map<string, { key: StatKey; chunks: Set<number> }> {
  let memory = intact.get(repo);
  if (!memory) intact.set(repo, (memory = new Map()));
  return memory;
}

const sameKey = (a: StatKey, b: StatKey) => sameStatKey(a, b.size, b.mtimeNs, b.ctimeNs, b.ino);

/**
 * The bytes of a version file as `serve` sends them (docs/design.md §12, "Served bytes are
 * checked"): each chunk is hashed against the object's chunk list before it is handed on,
 * unless this process found it intact before; an object all of whose chunks were is sent as
 * it is while its file keeps the same stat key (`modelctl verify` re-reads everything). A
 * chunk that does not match ends the send with IntegrityError `CORRUPT_OBJECT` (6) — the
 * server then cuts the connection, so no client receives a complete response of wrong
 * bytes — and the object is moved to quarantine/, so the next request downloads it again
 * from the default remote (or answers that it is not here).
 */
export function servedFileBytes(repo: Repository, file: ManifestFile): ServedBytes {
  // Checked before any header is sent: a file that cannot be checked is not served.
  const chunks = file.size === 0 ? [] : fileChunks(repo.db, file.digest);
  if (!chunks || !chunksCover(chunks, file.size)) {
    throw new IntegrityError('CORRUPT_OBJECT', `the index has no usable chunk list for ${file.path} (object ${file.digest.slice(0, 12)})`, {
      hint: 'run `modelctl verify --rebuild-index`',
    });
  }
  const path = repo.store.objectPath(file.digest);
  const memory = memoryOf(repo);
  return async (start, end, sink) => {
    const key = tryStatKey(path);
    const before = memory.get(file.digest);
    const found = key && before && sameKey(key, before.key) ? before.chunks : new Set<number>();
    if (found.size === chunks.length) return sendPlainRange(path, start, end, sink);
    // Chunks checked on this read count only if the file kept its key meanwhile (checked below).
    const checkedNow = new Set<number>();
    try {
      await sendVerifiedRange(path, chunks, start, end, sink, { has: (i) => found.has(i), add: (i) => checkedNow.add(i) });
    } catch (err) {
      if (!(err instanceof ChunkMismatch)) throw err;
      memory.delete(file.digest);
      const moved = repo.store.quarantineObject(file.digest);
      throw new IntegrityError('CORRUPT_OBJECT', `object ${file.digest.slice(0, 12)} of ${file.path} is corrupt (${err.message}); the response was cut short`, {
        hint: `${moved ? 'the object was moved to .modelctl/quarantine/; the next request downloads it again from the default remote, if there is one' : 'the object is gone from the store'}; run \`modelctl verify\``,
        data: { digest: file.digest, ...(moved ? { quarantined: moved } : {}) },
      });
    }
    const after = tryStatKey(path);
    if (key && after && sameKey(key, after) && !withinRacyWindow(key)) {
      for (const i of checkedNow) found.add(i);
      memory.set(file.digest, { key, chunks: found });
    }
  };
}
