import { UsageError } from '../../errors.js';
import { countOf, formatBytes } from '../format.js';

/** `--strip-components <n>` as a number (exit 2 unless a whole number ≥ 0). */
export function parseStripComponents(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new UsageError('INVALID_STRIP_COMPONENTS', `--strip-components needs a whole number ≥ 0, not '${value}'`, { hint: 'e.g. --strip-components 1 places model/w.bin as w.bin' });
  }
  return n;
}

/**
 * "2 written (1.5 MiB), 3 unchanged, 1 removed": what checkout and pull did to the folder;
 * `removedNote` follows the removed count ("1 removed (not in this version)").
 */
export function renderPlacement(files: readonly { action: string; size: number }[], removed: readonly unknown[], removedNote?: string): string {
  const written = files.filter((f) => f.action === 'written');
  const bytes = written.reduce((s, f) => s + f.size, 0);
  const parts = [`${countOf(written.length, 'file')} written (${formatBytes(bytes)})`, `${files.length - written.length} unchanged`];
  if (removed.length) parts.push(`${removed.length} removed${removedNote ? ` (${removedNote})` : ''}`);
  return parts.join(', ');
}
