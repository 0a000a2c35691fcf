import { canonicalJson } from './canonical-json.js';

/** A file as diff compares it. */
export interface DiffFile {
  path: string;
  size: number;
  mode: number;
  digest: string;
}

/** A file present in both versions with other bytes or mode. */
export interface ChangedFile {
  path: string;
  sizeBefore: number;
  sizeAfter: number;
  sizeDelta: number;
  digestBefore: string;
  digestAfter: string;
  modeBefore: number;
  modeAfter: number;
}

export interface FilesDiff {
  added: DiffFile[];
  removed: DiffFile[];
  changed: ChangedFile[];
  /** How many files are identical in both. */
  unchanged: number;
}

export interface ValueChange {
  key: string;
  before: unknown;
  after: unknown;
}

export interface ValuesDiff {
  added: { key: string; value: unknown }[];
  removed: { key: string; value: unknown }[];
  changed: ValueChange[];
  unchanged: number;
}

/** A metric change; `delta` (after − before) is set when both values are finite numbers. */
export interface MetricChange extends ValueChange {
  delta: number | null;
  /** delta / |before|, when before is a non-zero number. */
  relative: number | null;
}

export interface MetricsDiff extends Omit<ValuesDiff, 'changed'> {
  changed: MetricChange[];
}

/** Files added, removed and changed (by digest or mode) between two sorted or unsorted lists. */
export function diffFiles(before: readonly DiffFile[], after: readonly DiffFile[]): FilesDiff {
  const a = new Map(before.map((f) => [f.path, f]));
  const b = new Map(after.map((f) => [f.path, f]));
  const out: FilesDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [path, fa] of a) {
    const fb = b.get(path);
    if (!fb) out.removed.push(fa);
    else if (fa.digest !== fb.digest || fa.mode !== fb.mode) {
      out.changed.push({
        path,
        sizeBefore: fa.size,
        sizeAfter: fb.size,
        sizeDelta: fb.size - fa.size,
        digestBefore: fa.digest,
        digestAfter: fb.digest,
        modeBefore: fa.mode,
        modeAfter: fb.mode,
      });
    } else out.unchanged++;
  }
  for (const [path, fb] of b) if (!a.has(path)) out.added.push(fb);
  const byPath = (x: { path: string }, y: { path: string }) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
  out.added.sort(byPath);
  out.removed.sort(byPath);
  out.changed.sort(byPath);
  return out;
}

/** Keys added, removed and changed between two flat key → JSON value maps (params). */
export function diffValues(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): ValuesDiff {
  const out: ValuesDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const inA = Object.hasOwn(before, key);
    const inB = Object.hasOwn(after, key);
    if (!inA) out.added.push({ key, value: after[key] });
    else if (!inB) out.removed.push({ key, value: before[key] });
    else if (canonicalJson(before[key]) !== canonicalJson(after[key])) out.changed.push({ key, before: before[key], after: after[key] });
    else out.unchanged++;
  }
  return out;
}

/** Like diffValues, with numeric deltas for changed metrics. */
export function diffMetrics(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): MetricsDiff {
  const base = diffValues(before, after);
  return {
    ...base,
    changed: base.changed.map((c) => {
      const numeric = typeof c.before === 'number' && typeof c.after === 'number' && Number.isFinite(c.before) && Number.isFinite(c.after);
      // Rounded to 12 significant digits so 0.93 − 0.91 reads 0.02, not 0.020000000000000018.
      const delta = numeric ? roundSignificant((c.after as number) - (c.before as number)) : null;
      const relative = numeric && c.before !== 0 ? roundSignificant(((c.after as number) - (c.before as number)) / Math.abs(c.before as number)) : null;
      return { ...c, delta, relative };
    }),
  };
}

function roundSignificant(n: number): number {
  return n === 0 ? 0 : Number(n.toPrecision(12));
}
