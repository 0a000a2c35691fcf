import { UsageError } from '../errors.js';
import { printable } from './names.js';

export type JsonScalar = string | number | boolean | null;
export type JsonValue = JsonScalar | JsonValue[] | { [k: string]: JsonValue };

/**
 * Parses `k=v` from the command line. The value keeps its type when it reads as a JSON
 * scalar (`0.01` → number, `true` → boolean, `null`), and is a string otherwise.
 */
export function parseKeyValue(text: string, what: 'param' | 'metric'): [string, JsonValue] {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new UsageError(`INVALID_${what.toUpperCase()}`, `--${what} '${printable(text)}' is not key=value`, {
      hint: `write --${what} name=value, e.g. --${what} ${what === 'param' ? 'lr=0.001' : 'accuracy=0.93'}`,
    });
  }
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  assertKey(key, what);
  return [key, parseScalar(raw)];
}

function parseScalar(raw: string): JsonValue {
  const t = raw.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(t)) {
    const n = Number(t);
    if (Number.isFinite(n)) return n;
  }
  return raw;
}

function assertKey(key: string, what: string): void {
  if (key.length === 0 || key.length > 256 || /[\x00-\x1f]/.test(key)) {
    throw new UsageError(`INVALID_${what.toUpperCase()}`, `invalid ${what} name '${printable(key)}'`);
  }
}

/**
 * Flattens nested objects into dotted keys (`train: {lr: 0.1}` → `train.lr`), as DVC
 * does, so metrics and params compare and gate key by key. Arrays stay values.
 */
export function flattenObject(value: Record<string, unknown>, what: 'param' | 'metric', prefix = '', out: Record<string, JsonValue> = {}): Record<string, JsonValue> {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      flattenObject(v as Record<string, unknown>, what, key, out);
    } else {
      assertKey(key, what);
      if (typeof v === 'number' && !Number.isFinite(v)) {
        throw new UsageError(`INVALID_${what.toUpperCase()}S_FILE`, `${what} '${printable(key)}' is not a finite number`);
      }
      out[key] = toJsonValue(v, what, key);
    }
  }
  return out;
}

function toJsonValue(v: unknown, what: string, key: string): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v as JsonValue;
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, what, key));
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, toJsonValue(x, what, key)]));
  if (v instanceof Date) return v.toISOString();
  throw new UsageError(`INVALID_${what.toUpperCase()}S_FILE`, `${what} '${printable(key)}' has a value JSON cannot hold`);
}
