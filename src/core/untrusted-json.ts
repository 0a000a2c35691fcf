import { IntegrityError } from '../errors.js';

/**
 * JSON.parse for untrusted bytes: rejects invalid UTF-8 and nesting deeper than `maxDepth`
 * (a deeply nested document would otherwise blow the stack of the code that walks the value
 * later: canonical JSON, schema checks).
 *
 * V8's JSON.parse does not recurse, so it parses any depth; the depth is then checked on the
 * parsed value, whose containers are far fewer than the document's characters (a 10,000-file
 * placement record: ~2 ms against ~7 ms for a scan of every character, which status paid on
 * every run). A document that does not parse is scanned, so one that is also nested too deeply
 * is still reported as such.
 */
export function parseUntrustedJson(bytes: Buffer, what: string, maxDepth = 64): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new IntegrityError('INVALID_JSON', `${what} is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (textNestedDeeperThan(text, maxDepth)) throw tooDeep(what);
    throw new IntegrityError('INVALID_JSON', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (valueNestedDeeperThan(value, maxDepth)) throw tooDeep(what);
  return value;
}

function tooDeep(what: string): IntegrityError {
  return new IntegrityError('INVALID_JSON', `${what} is nested too deeply`);
}

/** True when some array or object of `value` lies more than `maxDepth` containers deep (the outermost is 1). Iterative: depth is what is being checked. */
function valueNestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const pending: object[] = [value];
  const depths: number[] = [1];
  while (pending.length) {
    const v = pending.pop() as Record<string, unknown>;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return true;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x !== null && typeof x === 'object') {
          pending.push(x);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const k in v) {
        const x = v[k];
        if (x !== null && typeof x === 'object') {
          pending.push(x);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** The same limit on text that may not be JSON: brackets outside strings. */
function textNestedDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}
