import { IntegrityError } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import { ChunkMismatch, chunksCover, readPlainRange, readVerifiedRange } from '../store/verified-read.js';
import { fileChunks } from '../store/version-records.js';
import { tryStatKey, type FileStatKey } from '../workspace/stat-cache.js';
import type { Repository } from './repository.js';

/**
 * What this process has found intact, per object: the stat key its file had then and the
 * chunks (by index) that hashed to their digests. A chunk is not hashed again while the key
 * holds (objects are never rewritten; any write changes the key), so a client downloading
 * a file in ranges pays each chunk's check once, as a whole download does (docs/design.md
 * §12, "Served bytes are checked"). Per open repository (serve holds one).
 */
const intact = new WeakMap<Repository, Map<string, { key: string; chunks: Set<number> }>>();

function keyText(k: FileStatKey): string {
  return `${k.ino}:${k.size}:${k.mtimeNs}:${k.ctimeNs}`;
}

/**
 * A reader of bytes [start, end) of a version file as `serve` sends them (docs/design.md §12,
 * "Served bytes are checked"): the first time this process sends an object, each chunk is
 * hashed against the object's chunk list before it is handed on; once every chunk was
 * found intact, the object is sent as it is while its file keeps the same stat key (objects are never
 * rewritten; `modelctl verify` re-reads everything). A chunk that does not match ends the
 * stream with IntegrityError `CORRUPT_OBJECT` (6) — the server then cuts the connection, so
 * no client receives a complete response of wrong bytes — and the object is moved to
 * quarantine/, so the next request downloads it again from the default remote (or answers
 * that it is not here).
 */
export function servedFileBytes(repo: Repository, file: ManifestFile): (start: number, end: number) => AsyncGenerator<Buffer> {
  // Checked before any header is sent: a file that cannot be checked is not served.
  const chunks = file.size === 0 ? [] : fileChunks(repo.db, file.digest);
  if (!chunks || !chunksCover(chunks, file.size)) {
    throw new IntegrityError('CORRUPT_OBJECT', `the index has no usable chunk list for ${file.path} (object ${file.digest.slice(0, 12)})`, {
      hint: 'run `modelctl verify --rebuild-index`',
    });
  }
  const path = repo.store.objectPath(file.digest);
  let known = intact.get(repo);
  if (!known) intact.set(repo, (known = new Map()));
  const memory = known;
  return async function* (start, end) {
    const before = tryStatKey(path);
    const key = before ? keyText(before) : null;
    let entry = memory.get(file.digest);
    if (key !== null && entry?.key === key && entry.chunks.size === chunks.length) {
      yield* readPlainRange(path, start, end);
      return;
    }
    if (!entry || entry.key !== key) entry = { key: key ?? '', chunks: new Set() };
    // Chunks checked on this read count only if the file kept its key meanwhile (checked below).
    const checkedNow = new Set<number>();
    const known = key === null ? undefined : { has: (i: number) => entry.chunks.has(i), add: (i: number) => checkedNow.add(i) };
    try {
      yield* readVerifiedRange(path, chunks, start, end, known);
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
    if (key !== null && after && keyText(after) === key) {
      for (const i of checkedNow) entry.chunks.add(i);
      memory.set(file.digest, entry);
    }
  };
}
