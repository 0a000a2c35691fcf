/** The one place that formats sizes, times and tables for people. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[i]}`;
}

/** "2026-11-28 09:13" in UTC, or "3 minutes ago" style when `relativeTo` is given. */
export function formatTime(iso: string, relativeTo?: Date): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  if (relativeTo) {
    const s = Math.round((relativeTo.getTime() - t.getTime()) / 1000);
    if (s >= 0 && s < 60) return `${s}s ago`;
    if (s >= 0 && s < 3600) return `${Math.round(s / 60)}m ago`;
    if (s >= 0 && s < 86400) return `${Math.round(s / 3600)}h ago`;
    if (s >= 0 && s < 30 * 86400) return `${Math.round(s / 86400)}d ago`;
  }
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** A duration in ms as "850 ms", "12.3 s", "4m 05s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

/** Visible width of a string (ANSI colour codes excluded). */
function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Aligns rows into columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  // A row's last cell is never padded, so it sets no column's width: one long cell (an error
  // in place of a file's counts) would otherwise push that column wide on every other row.
  const widths = Array.from({ length: cols }, (_, c) => Math.max(0, ...rows.map((r) => (c < r.length - 1 ? width(r[c] ?? '') : 0))));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell + ' '.repeat(widths[c] - width(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A value as shown in params/metrics listings (strings bare, others as JSON). */
export function formatValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** "1 file", "2 files", "0 files": a count with its noun in the right number (`plural` when not noun + "s"). */
export function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A count for people: 950 → "950", 50405 → "50.4 K", 7241732096 → "7.24 B". */
export function formatCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [size, unit] of units) {
    if (Math.abs(n) >= size) {
      const v = n / size;
      return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${unit}`;
    }
  }
  return String(n);
}
