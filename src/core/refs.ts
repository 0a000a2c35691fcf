import { UsageError } from '../errors.js';
import { assertModelName, isModelName, isVersionNumberSelector, printable } from './names.js';

/** What follows `@` in a reference, before it is resolved against an index (docs/design.md §2). */
export type Selector =
  | { kind: 'latest' }
  | { kind: 'number'; number: number }
  /** A stage, a tag or an id prefix: which one is decided by the resolver. */
  | { kind: 'name'; name: string };

export interface ParsedRef {
  model: string;
  selector: Selector;
  /** The reference as the user typed it, for messages. */
  text: string;
}

/** Parses `<model>[@<selector>]`; throws UsageError (exit 2) on malformed input. */
export function parseRef(text: string): ParsedRef {
  if (text.includes('\0')) throw new UsageError('INVALID_REF', 'a reference may not contain NUL bytes');
  const at = text.indexOf('@');
  const model = at < 0 ? text : text.slice(0, at);
  const sel = at < 0 ? '' : text.slice(at + 1);
  // `pose:v3` or `pose#production` (docker and git habits): say which reference was meant.
  const sep = at < 0 ? /^([^:#]+)[:#]([^:#]+)$/.exec(text) : null;
  if (sep && isModelName(sep[1])) {
    throw new UsageError('INVALID_REF', `invalid reference '${printable(text)}' — did you mean ${printable(`${sep[1]}@${sep[2]}`)}?`, {
      hint: 'a reference is <model>@<selector>: fraud@v3, fraud@production, fraud@1.4.0 (see `modelctl help references`)',
      data: { suggestion: `${sep[1]}@${sep[2]}` },
    });
  }
  assertModelName(model);
  if (at >= 0 && sel === '') {
    throw new UsageError('INVALID_REF', `reference '${printable(text)}' has an empty selector after '@'`, {
      hint: 'use <model>@latest, <model>@v3, <model>@<stage>, <model>@<tag> or <model>@<id prefix>',
    });
  }
  if (sel === '' || sel === 'latest') return { model, selector: { kind: 'latest' }, text };
  if (isVersionNumberSelector(sel)) {
    const number = Number(sel.slice(1));
    if (!Number.isSafeInteger(number) || number < 1) {
      throw new UsageError('INVALID_REF', `version number in '${printable(text)}' is out of range`);
    }
    return { model, selector: { kind: 'number', number }, text };
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(sel) || sel.length > 128) {
    throw new UsageError('INVALID_REF', `invalid selector '${printable(sel)}' in reference '${printable(text)}'`, {
      hint: 'use <model>@latest, <model>@v3, <model>@<stage>, <model>@<tag> or <model>@<id prefix>',
    });
  }
  return { model, selector: { kind: 'name', name: sel }, text };
}

/** True when a selector name could be a version id prefix (≥ 7 lower-case hex digits). */
export function isIdPrefix(s: string): boolean {
  return /^[0-9a-f]{7,64}$/.test(s);
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The candidates closest to `wanted`, best first (at most `max`). */
export function closest(wanted: string, candidates: Iterable<string>, max = 3): string[] {
  const scored = [...new Set(candidates)].map((c) => ({
    c,
    d: c.startsWith(wanted) || wanted.startsWith(c) ? 0 : editDistance(wanted, c),
  }));
  const limit = Math.max(2, Math.floor(wanted.length / 2));
  return scored
    .filter((s) => s.d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((s) => s.c);
}
