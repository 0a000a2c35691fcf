import { existsSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import { join } from 'node:path';
import * as z from 'zod';
import { UsageError, fsError } from '../errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import { parseUntrustedJson } from '../core/untrusted-json.js';
import { isModelName } from '../core/names.js';
import { unsafePathReason } from '../core/paths.js';
import { writeFileAtomic } from './atomic-file.js';
import { LOCK_FILE_NAME } from './lock-file-name.js';

/**
 * modelctl.lock (docs/design.md §14): committed to git beside modelctl.json, it names for each
 * model the version this commit of the code uses — its id, number and files' digests — so
 * `git checkout <sha> && modelctl checkout` restores that commit's models. This module reads,
 * writes and merges it; it knows nothing of the index.
 */
export { LOCK_FILE_NAME };

const HEX64 = /^[0-9a-f]{64}$/;

const lockedModelSchema = z.strictObject({
  version: z.string().regex(HEX64, 'must be a version id (64 hex digits)'),
  number: z.number().int().positive(),
  files: z.record(
    z.string().refine((p) => unsafePathReason(p) === null, 'unsafe path'),
    z.string().regex(HEX64, 'must be a file digest (64 hex digits)'),
  ),
});
/** One model's entry: the version and the digest of each of its files by path. */
export type LockedModel = z.infer<typeof lockedModelSchema>;

const lockFileSchema = z.strictObject({
  format: z.literal(1),
  models: z.record(z.string().refine(isModelName, 'invalid model name'), lockedModelSchema),
});
export type LockFile = z.infer<typeof lockFileSchema>;

/** A model on which the two sides of a git merge of the lock disagree. */
export interface LockConflict {
  model: string;
  /** The entry on our side (`<<<<<<<`), or null when our side has none. */
  ours: LockedModel | null;
  theirs: LockedModel | null;
}

/** What modelctl.lock holds. */
export type LockState =
  | { kind: 'absent' }
  | { kind: 'clean'; lock: LockFile }
  /** Git conflict markers: `lock` holds what both sides agree on (or only one side has). */
  | { kind: 'conflicted'; lock: LockFile; conflicts: LockConflict[]; labels: { ours: string; theirs: string } };

/** An empty lock. */
export function emptyLock(): LockFile {
  return { format: 1, models: {} };
}

/** Reads `<root>/modelctl.lock`; malformed → UsageError (2) naming the file. */
export function readLockFile(root: string): LockState {
  const path = join(root, LOCK_FILE_NAME);
  if (!existsSync(path)) return { kind: 'absent' };
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (err) {
    throw fsError(err, path);
  }
  return parseLockBytes(bytes);
}

/**
 * Parses the bytes of a lock. With git conflict markers (`<<<<<<<`, `|||||||`, `=======`,
 * `>>>>>>>`) each side is rebuilt as the whole file that side had, both are parsed, and the
 * models are merged: equal entries, and entries only one side has, are kept; entries that
 * differ become conflicts. Anything unreadable → UsageError (2).
 */
export function parseLockBytes(bytes: Buffer): LockState {
  const text = decode(bytes);
  if (!/^<{7}( |$)/m.test(text)) return { kind: 'clean', lock: parseSide(text, false) };
  const sides = splitConflict(text);
  const ours = parseSide(sides.ours, true);
  const theirs = parseSide(sides.theirs, true);
  const merged = emptyLock();
  const conflicts: LockConflict[] = [];
  for (const model of [...new Set([...Object.keys(ours.models), ...Object.keys(theirs.models)])].sort()) {
    const a = ours.models[model] ?? null;
    const b = theirs.models[model] ?? null;
    if (a && b && canonicalJson(a) !== canonicalJson(b)) conflicts.push({ model, ours: a, theirs: b });
    else merged.models[model] = (a ?? b) as LockedModel;
  }
  if (conflicts.length === 0) return { kind: 'clean', lock: merged };
  return { kind: 'conflicted', lock: merged, conflicts, labels: sides.labels };
}

/**
 * The text of a lock: indented JSON, models and files sorted, one line per file, so a git diff
 * shows exactly which model moved and two branches that move different models merge cleanly.
 * Conflicts still open are written back between git conflict markers (one block per model), so
 * resolving one model keeps the others' two sides for later.
 */
export function serializeLock(lock: LockFile, conflicts: readonly LockConflict[] = [], labels = { ours: 'ours', theirs: 'theirs' }): string {
  const names = [...new Set([...Object.keys(lock.models), ...conflicts.map((c) => c.model)])].sort();
  const open = new Map(conflicts.map((c) => [c.model, c]));
  const lines = ['{', '  "format": 1,', '  "models": {'];
  names.forEach((name, i) => {
    const comma = i < names.length - 1 ? ',' : '';
    const c = open.get(name);
    if (!c) {
      lines.push(...entryLines(name, lock.models[name], comma));
      return;
    }
    // Inside a block every entry ends with a comma; reading a conflicted lock tolerates it.
    lines.push(`<<<<<<< ${labels.ours}`);
    if (c.ours) lines.push(...entryLines(name, c.ours, ','));
    lines.push('=======');
    if (c.theirs) lines.push(...entryLines(name, c.theirs, ','));
    lines.push(`>>>>>>> ${labels.theirs}`);
  });
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

/** Writes the lock atomically (temp file, fsync, rename). */
export function writeLockFile(root: string, lock: LockFile, conflicts: readonly LockConflict[] = [], labels?: { ours: string; theirs: string }): void {
  writeFileAtomic(join(root, LOCK_FILE_NAME), serializeLock(lock, conflicts, labels));
}

function entryLines(name: string, entry: LockedModel, comma: string): string[] {
  const files: Record<string, string> = {};
  for (const path of Object.keys(entry.files).sort()) files[path] = entry.files[path];
  const body = JSON.stringify({ version: entry.version, number: entry.number, files }, null, 2).split('\n');
  const out = [`    ${JSON.stringify(name)}: ${body[0]}`, ...body.slice(1).map((l) => `    ${l}`)];
  out[out.length - 1] += comma;
  return out;
}

function decode(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('it is not valid UTF-8');
  }
}

function parseSide(text: string, conflicted: boolean): LockFile {
  // A side rebuilt from a conflict may end an entry with a comma before the closing brace.
  const source = conflicted ? text.replace(/,(\s*[}\]])/g, '$1') : text;
  let raw: unknown;
  try {
    raw = parseUntrustedJson(Buffer.from(source, 'utf8'), LOCK_FILE_NAME);
  } catch (err) {
    throw invalid(conflicted ? 'the two sides of its git conflict are not both valid locks' : (err as Error).message);
  }
  const parsed = lockFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The whole text of each side of every conflict block (diff3 base sections dropped). */
function splitConflict(text: string): { ours: string; theirs: string; labels: { ours: string; theirs: string } } {
  const ours: string[] = [];
  const theirs: string[] = [];
  const labels = { ours: 'ours', theirs: 'theirs' };
  let where: 'both' | 'ours' | 'base' | 'theirs' = 'both';
  for (const line of text.split('\n')) {
    if (/^<{7}( |$)/.test(line) && where === 'both') {
      where = 'ours';
      labels.ours = line.slice(8).trim() || labels.ours;
    } else if (/^\|{7}( |$)/.test(line) && where === 'ours') {
      where = 'base';
    } else if (/^={7}$/.test(line) && (where === 'ours' || where === 'base')) {
      where = 'theirs';
    } else if (/^>{7}( |$)/.test(line) && where === 'theirs') {
      where = 'both';
      labels.theirs = line.slice(8).trim() || labels.theirs;
    } else if (where === 'both') {
      ours.push(line);
      theirs.push(line);
    } else if (where === 'ours') {
      ours.push(line);
    } else if (where === 'theirs') {
      theirs.push(line);
    }
  }
  if (where !== 'both') throw invalid('a git conflict block is not closed');
  return { ours: ours.join('\n'), theirs: theirs.join('\n'), labels };
}

function invalid(why: string): UsageError {
  return new UsageError('INVALID_LOCK', `${LOCK_FILE_NAME} cannot be read: ${why}`, {
    hint: `fix ${LOCK_FILE_NAME} by hand, or take one side (git checkout --ours ${LOCK_FILE_NAME}) and run \`modelctl checkout <model>@<ref> --lock\``,
  });
}
