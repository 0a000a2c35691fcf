import { existsSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import * as z from 'zod';
import { unsafePathReason } from '../core/paths.js';
import { parseUntrustedJson } from '../core/untrusted-json.js';
import { fsError } from '../errors.js';
import { placementRecordPath, type PlacementRecord, type PlacementTarget } from './placement-record.js';

// Apart from placement-record.ts so that only the commands that read a whole record (checkout,
// pull) load the validator; status reads the version id alone (readPlacedVersion).

const recordSchema = z.strictObject({
  format: z.literal(1),
  model: z.string().min(1),
  version: z.string().regex(/^[0-9a-f]{64}$/),
  number: z.number().int().positive().nullable(),
  stripComponents: z.number().int().min(0),
  files: z.array(
    z.strictObject({
      path: z.string().refine((p) => unsafePathReason(p) === null, 'unsafe path'),
      digest: z.string().regex(/^[0-9a-f]{64}$/),
      mode: z.number().int(),
    }),
  ),
  placedAt: z.string(),
});

/**
 * The record of `model` in `target`, or null when there is none. A record that does not
 * parse or validate (edited by hand, torn by a foreign tool) is treated as absent: with no
 * record nothing is removed, which is the safe side. The caller gets `damaged` to warn.
 */
export function readPlacementRecord(target: PlacementTarget, model: string): { record: PlacementRecord | null; damaged: boolean } {
  const path = placementRecordPath(target, model);
  if (!existsSync(path)) return { record: null, damaged: false };
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const parsed = recordSchema.safeParse(parseUntrustedJson(bytes, path));
    if (!parsed.success || parsed.data.model !== model) return { record: null, damaged: true };
    return { record: parsed.data as PlacementRecord, damaged: false };
  } catch {
    return { record: null, damaged: true };
  }
}
