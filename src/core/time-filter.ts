import { UsageError } from '../errors.js';
import { printable } from './names.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/**
 * Parses a `--since` value into an ISO-8601 UTC instant: a date (`2026-11-01`, UTC
 * midnight), a date-time (`2026-11-01T12:00`, UTC unless it names an offset), or an age
 * relative to `now` (`30m`, `12h`, `7d`, `2w`). Anything else → UsageError (exit 2).
 */
export function parseSince(text: string, now: Date = new Date()): string {
  const t = text.trim();
  const rel = /^(\d+)\s*([smhdw])$/i.exec(t);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2].toLowerCase()]).toISOString();
  let iso: string | null = null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) iso = `${t}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(t)) {
    const withT = t.replace(' ', 'T');
    iso = /(Z|[+-]\d{2}:?\d{2})$/i.test(withT) ? withT : `${withT}Z`;
  }
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) {
    throw new UsageError('INVALID_DATE', `cannot read '${printable(text)}' as a date`, {
      hint: 'use a date (2026-11-01), a UTC date-time (2026-11-01T12:00) or an age (30m, 12h, 7d, 2w)',
    });
  }
  return d.toISOString();
}

/**
 * Parses a duration such as `30s`, `5m`, `1h`, `30d`, `2w`, `7y` (365 days), `500ms` or a
 * plain number of seconds into milliseconds, at least `minMs`. Anything else → UsageError (exit 2).
 */
export function parseDuration(text: string, what: string, minMs = 1): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)?$/i.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2]?.toLowerCase() === 'ms' ? 1 : UNIT_MS[(m[2] ?? 's').toLowerCase()]) : NaN;
  if (!Number.isFinite(ms) || ms < minMs) {
    throw new UsageError('INVALID_DURATION', `${what} must be a duration of at least ${minMs} ms (${durationExamples(minMs).join(', ')}), got '${printable(text)}'`);
  }
  return Math.round(ms);
}

const EXAMPLES: [string, number][] = [['500ms', 500], ['1s', 1000], ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1d', 86_400_000]];

/** Examples of durations that `parseDuration(…, minMs)` accepts: an example it refuses would mislead. */
function durationExamples(minMs: number): string[] {
  const fits = EXAMPLES.filter(([, ms]) => ms >= minMs).map(([t]) => t);
  return fits.length ? fits.slice(0, 4) : [`${Math.ceil(minMs / 1000)}s`];
}
