import { mkdirSync, rmSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import { dirname, join } from 'node:path';
import { parseUntrustedJson } from '../core/untrusted-json.js';
import { fsError } from '../errors.js';
import { writeJsonAtomic } from './atomic-file.js';

/**
 * What checkout, pull and commit remember having placed in a folder, per model
 * (docs/design.md §10): the version and each file's path (relative to the folder, as
 * placed: after --strip-components) and digest. Only files listed here may be removed by a
 * later checkout, and only while their bytes are still the recorded ones.
 *
 * Reading a whole record validates it with a schema (placement-record-schema.ts, which loads
 * zod); this module does not, so `status`, which needs only the version id, starts without
 * the validator.
 */
export interface PlacementRecord {
  format: 1;
  model: string;
  /** Version id of what the folder holds (or is being switched to, see `files`). */
  version: string;
  /** Its number when it was placed (informative: numbers can change before a push). */
  number: number | null;
  stripComponents: number;
  /**
   * Files placed. During a switch the record lists the old version's files and the new
   * one's together (a path may appear twice with two digests), so a crash midway still
   * leaves every file modelctl put there known to it.
   */
  files: { path: string; digest: string; mode: number }[];
  placedAt: string;
}

/** The folder, inside an --out folder, that holds its placement records. */
export const OUT_RECORD_DIR = '.modelctl-placed';
/** The folder, inside the repository's `.modelctl/`, that holds the workspace's records. */
const WORKSPACE_RECORD_DIR = 'placed';

/** Where a folder's records live: the workspace's in `.modelctl/placed/`, an --out folder's inside it. */
export type PlacementTarget = { kind: 'workspace'; metaDir: string } | { kind: 'out'; dir: string };

/** Path of the record of `model` placed in `target` (`team/fraud` nests one folder). */
export function placementRecordPath(target: PlacementTarget, model: string): string {
  const base = target.kind === 'workspace' ? join(target.metaDir, WORKSPACE_RECORD_DIR) : join(target.dir, OUT_RECORD_DIR);
  return join(base, ...`${model}.json`.split('/'));
}

/**
 * Only the version id of the record of `model` in `target` (null when none or damaged):
 * what status needs, without validating every file entry of a 10,000-file record.
 */
export function readPlacedVersion(target: PlacementTarget, model: string): string | null {
  const path = placementRecordPath(target, model);
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch {
    return null;
  }
  try {
    const raw = parseUntrustedJson(bytes, path) as { format?: unknown; model?: unknown; version?: unknown };
    return raw.format === 1 && raw.model === model && typeof raw.version === 'string' && /^[0-9a-f]{64}$/.test(raw.version) ? raw.version : null;
  } catch {
    return null;
  }
}

/** Replaces the record of `record.model` in `target` atomically (temp file, fsync, rename). */
export function writePlacementRecord(target: PlacementTarget, record: PlacementRecord): void {
  const path = placementRecordPath(target, record.model);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw fsError(err, dirname(path));
  }
  writeJsonAtomic(path, record);
}

/** Removes the record of `model` in `target` (nothing of the model is placed there any more). */
export function removePlacementRecord(target: PlacementTarget, model: string): void {
  rmSync(placementRecordPath(target, model), { force: true });
}
