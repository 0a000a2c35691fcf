import { closeSync, renameSync, writeFileSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import { join } from 'node:path';
import { BUILD } from '../package-paths.js';
import { createTempFile, discardTempFile, releaseTempFile } from '../store/temp-files.js';

/**
 * `.modelctl/settings-verdicts.json`: the exact contents of settings files (modelctl.json,
 * .modelctl/config.json) that the settings schema accepted, and the build that accepted them.
 * A command that reads the same bytes again with the same build knows the schema's verdict
 * without loading the validator (zod costs about as much as starting node). Any other bytes,
 * another build, or no record: the schema runs. The contents themselves are kept, not a
 * hash, so the comparison is exact and needs no crypto. Only a built CLI keeps the record
 * (the build's source id names the schema that gave the verdicts); the sources always
 * validate.
 *
 * It is a cache: losing it, or a torn write, only means validating again, so it is written
 * with a rename but no fsync; a file that does not parse is ignored.
 */
const FILE = 'settings-verdicts.json';
/** Enough for both settings files and a few recent versions of each. */
const MAX_KEPT = 8;
/** Larger settings files are validated every time (the record stays small). */
const MAX_BYTES = 64 * 1024;

interface Verdicts {
  build: string;
  /** Accepted file contents, base64. */
  accepted: string[];
}

let cached: { metaDir: string; verdicts: Verdicts | null } | undefined;

function read(metaDir: string): Verdicts | null {
  if (cached?.metaDir === metaDir) return cached.verdicts;
  let verdicts: Verdicts | null = null;
  try {
    const v = JSON.parse(readRegularFileSync(join(metaDir, FILE)).toString('utf8')) as Verdicts;
    if (v && v.build === BUILD?.sourceId && Array.isArray(v.accepted)) verdicts = v;
  } catch {
    /* none yet, or unreadable: validate */
  }
  cached = { metaDir, verdicts };
  return verdicts;
}

/** True when this build's settings schema accepted a file with exactly these bytes before. */
export function wasAccepted(metaDir: string, bytes: Buffer): boolean {
  if (BUILD === null || bytes.length > MAX_BYTES) return false;
  const encoded = bytes.toString('base64');
  return read(metaDir)?.accepted.includes(encoded) ?? false;
}

/** Records that this build's settings schema accepted a file with exactly these bytes (best effort). */
export function rememberAccepted(metaDir: string, bytes: Buffer): void {
  if (!BUILD || bytes.length > MAX_BYTES) return;
  const encoded = bytes.toString('base64');
  const accepted = [encoded, ...(read(metaDir)?.accepted ?? []).filter((d) => d !== encoded)].slice(0, MAX_KEPT);
  const verdicts: Verdicts = { build: BUILD.sourceId, accepted };
  let tmp: { path: string; fd: number } | undefined;
  let fd: number | undefined;
  try {
    // In tmp/, where verify and gc sweep what a crash leaves.
    tmp = createTempFile(join(metaDir, 'tmp'), '.tmp');
    fd = tmp.fd;
    writeFileSync(fd, JSON.stringify(verdicts));
    closeSync(fd);
    fd = undefined;
    renameSync(tmp.path, join(metaDir, FILE));
    releaseTempFile(tmp.path);
    cached = { metaDir, verdicts };
  } catch {
    // A read-only repository or a full disk: the next command validates again.
    if (tmp) discardTempFile(tmp.path, fd);
  }
}
