import type { Database } from '../store/index-db.js';
import { writeTransaction } from '../store/index-db.js';
import { placedVersionMemo, putPlacedVersionMemo } from '../store/placed-version-memo.js';
import { placementRecordPath, readPlacedVersion } from './placement-record.js';
import { sameStatKey, tryStatKey, withinRacyWindow } from './stat-cache.js';

/**
 * The version id the work tree's placement record of `model` names (docs/design.md §10),
 * as readPlacedVersion reads it, without reading the record on every status: the record
 * of a 10,000-file version is 1.5 MB of JSON, and parsing it cost status ~10 ms and a
 * garbage collection more. The id is remembered in the index with the record's stat key,
 * by the stat cache's rule (workspace/stat-cache.ts): while size, mtime, ctime and inode
 * are all unchanged the record holds the bytes it held when read; a record changed within
 * the racy window is not remembered; a record that does not parse (null) is not either.
 * Checkout and commit replace the record by a rename (a new inode), so either one is seen.
 */
export function workTreePlacedVersion(db: Database, metaDir: string, model: string, nowNs = BigInt(Date.now()) * 1_000_000n): string | null {
  const target = { kind: 'workspace', metaDir } as const;
  // Stat before reading: a change between the two makes the memo stale, never wrong.
  const key = tryStatKey(placementRecordPath(target, model));
  if (!key?.isFile) return readPlacedVersion(target, model);
  const memo = placedVersionMemo(db, model);
  if (memo && sameStatKey(key, memo[0], memo[1], memo[2], memo[3])) return memo[4];
  const version = readPlacedVersion(target, model);
  if (version && !withinRacyWindow(key, nowNs)) {
    writeTransaction(db, () => putPlacedVersionMemo(db, model, [key.size, key.mtimeNs, key.ctimeNs, key.ino, version]));
  }
  return version;
}
