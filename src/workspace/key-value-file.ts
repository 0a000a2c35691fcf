import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { UsageError, fsError } from '../errors.js';
import { flattenObject, type JsonValue } from '../core/key-values.js';
import { printable } from '../core/names.js';

/**
 * Reads a params or metrics file, JSON or YAML (by extension; unknown extensions try JSON
 * then YAML), into flat dotted keys with their value types kept. A missing file is not
 * found (3); anything that is not a mapping of values is a usage error (2).
 */
export async function readKeyValueFile(cwd: string, path: string, what: 'param' | 'metric'): Promise<Record<string, JsonValue>> {
  const abs = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw fsError(err, path);
  }
  const code = `INVALID_${what.toUpperCase()}S_FILE`;
  const ext = extname(abs).toLowerCase();
  let value: unknown;
  try {
    if (ext === '.json') value = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') value = await parseYaml(text);
    else {
      try {
        value = JSON.parse(text);
      } catch {
        value = await parseYaml(text);
      }
    }
  } catch (err) {
    throw new UsageError(code, `--${what}s file '${printable(path)}' cannot be parsed: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'it must be a JSON or YAML mapping of names to values',
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(code, `--${what}s file '${printable(path)}' is not a mapping of names to values`, {
      hint: 'write e.g. {"lr": 0.001} or "lr: 0.001"',
    });
  }
  return flattenObject(value as Record<string, unknown>, what);
}

async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  // maxAliasCount guards against alias bombs in untrusted YAML.
  return parse(text, { maxAliasCount: 100, strict: true, uniqueKeys: true });
}
