import { extname, resolve } from 'node:path';
import { readRegularFileSync } from '../store/regular-file.js';
import * as z from 'zod';
import { NotFoundError, UsageError, fsError, isErrnoException } from '../errors.js';
import { flattenObject, type JsonValue } from '../core/key-values.js';
import { printable } from '../core/names.js';
import { parseUntrustedJson } from '../core/untrusted-json.js';

/** Nesting allowed in a params/metrics file: well under the manifest reader's bound (64). */
const MAX_DEPTH = 32;
const mappingSchema = z.record(z.string(), z.unknown());

/** Where the name of a params/metrics file came from: a flag, or a model's entry in modelctl.json. */
export type KeyValueFileSource = { from: 'flag' } | { from: 'settings'; model: string };

/**
 * Reads a params or metrics file, JSON or YAML (by extension; unknown extensions try JSON
 * then YAML), into flat dotted keys with their value types kept. A missing file is not
 * found (3); anything that is not a mapping of values is a usage error (2). Messages name
 * where the file's name came from (`--metrics`, or `models.<m>.metrics` in modelctl.json).
 */
export async function readKeyValueFile(cwd: string, path: string, what: 'param' | 'metric', source: KeyValueFileSource = { from: 'flag' }): Promise<Record<string, JsonValue>> {
  const abs = resolve(cwd, path);
  const label =
    source.from === 'flag'
      ? `--${what}s file '${printable(path)}'`
      : `the ${what}s file '${printable(path)}' named in modelctl.json (models.${source.model}.${what}s)`;
  const fix =
    source.from === 'flag'
      ? `check the path given to --${what}s`
      : `fix models.${source.model}.${what}s in modelctl.json, or pass --${what}s <file> (or --${what} k=v) instead`;
  let text: string;
  try {
    text = readRegularFileSync(abs).toString('utf8');
  } catch (err) {
    if (isErrnoException(err, 'ENOENT')) {
      throw new NotFoundError('FILE_NOT_FOUND', `${label} does not exist`, {
        hint: source.from === 'settings' ? `run the step that writes it first, or ${fix}` : fix,
        data: { path, ...(source.from === 'settings' ? { setting: `models.${source.model}.${what}s` } : {}) },
      });
    }
    throw fsError(err, path);
  }
  const code = `INVALID_${what.toUpperCase()}S_FILE`;
  const ext = extname(abs).toLowerCase();
  let value: unknown;
  const parseJson = (t: string) => parseUntrustedJson(Buffer.from(t, 'utf8'), `'${printable(path)}'`, MAX_DEPTH);
  try {
    if (ext === '.json') value = parseJson(text);
    else if (ext === '.yaml' || ext === '.yml') value = await parseYaml(text);
    else {
      try {
        value = parseJson(text);
      } catch {
        value = await parseYaml(text);
      }
    }
    // The same depth bound for YAML: the values go into the manifest, whose reader refuses
    // deeper nesting (and deep recursion would overflow the stack before that).
    parseJson(JSON.stringify(value) ?? 'null');
  } catch (err) {
    throw new UsageError(code, `${label} cannot be parsed: ${(err as Error).message.split('\n')[0]}`, {
      hint: `it must be a JSON or YAML mapping of names to values; ${fix}`,
    });
  }
  if (!mappingSchema.safeParse(value).success) {
    throw new UsageError(code, `${label} is not a mapping of names to values`, {
      hint: `write e.g. {"lr": 0.001} or "lr: 0.001"; ${fix}`,
    });
  }
  return flattenObject(value as Record<string, unknown>, what);
}

async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  // maxAliasCount guards against alias bombs in untrusted YAML.
  return parse(text, { maxAliasCount: 100, strict: true, uniqueKeys: true });
}
