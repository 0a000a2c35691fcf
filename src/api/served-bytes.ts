import { IntegrityError } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import { ChunkMismatch, chunksCover, readPlainRange, readVerifiedRange } from '../store/verified-read.js';
import { fileChunks } from '../store/version-records.js';
import { tryStatKey, type FileStatKey } from '../workspace/stat-cache.js';
import type { Repository } from './repository.js';

/**
 * Objects this process has sent whole and found intact, with the stat key their file had
 * then: sent again without hashing while the file is unchanged (docs/design.md §12, "Served
 * bytes are checked"). Per open repository (serve holds one).
 */
const intact = new WeakMap<Repository, Map<string, string>>();

function keyText(k: FileStatKey): string {
  return `${k.ino}:${k.size}:${k.mtimeNs}:${k.ctimeNs}`;
}

/**
 * A reader of bytes [start, end) of a version file as `serve` sends them (docs/design.md §12,
 * "Served bytes are checked"): the first time this process sends an object, each chunk is
 * hashed against the object's chunk list before it is handed on; once the whole object was
 * sent intact, it is sent as it is while its file keeps the same stat key (objects are never
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
    if (key !== null && memory.get(file.digest) === key) {
      yield* readPlainRange(path, start, end);
      return;
    }
    memory.delete(file.digest);
    try {
      yield* readVerifiedRange(path, chunks, start, end);
    } catch (err) {
      if (!(err instanceof ChunkMismatch)) throw err;
      const moved = repo.store.quarantineObject(file.digest);
      throw new IntegrityError('CORRUPT_OBJECT', `object ${file.digest.slice(0, 12)} of ${file.path} is corrupt (${err.message}); the response was cut short`, {
        hint: `${moved ? 'the object was moved to .modelctl/quarantine/; the next request downloads it again from the default remote, if there is one' : 'the object is gone from the store'}; run \`modelctl verify\``,
        data: { digest: file.digest, ...(moved ? { quarantined: moved } : {}) },
      });
    }
    // Remembered only for a whole object whose file did not change while it was read.
    const after = tryStatKey(path);
    if (key !== null && start === 0 && end === file.size && after && keyText(after) === key) memory.set(file.digest, key);
  };
}
