import { statfsSync, type Stats } from 'node:fs';
import { ExitCode, ModelctlError } from '../errors.js';

/**
 * Refusing before writing what cannot fit (docs/design.md §9): a write that fills the
 * disk fails half-way, after it has taken the space every other program needed. Each
 * writer that knows how much it is about to write asks here first.
 */

/** Bytes a file takes on disk (holes excluded): what copying it sparsely needs at most. */
export function allocatedBytes(st: Pick<Stats, 'size' | 'blocks'>): number {
  return typeof st.blocks === 'number' && st.blocks >= 0 ? Math.min(st.size, st.blocks * 512) : st.size;
}

/** Free bytes for this user on the file system holding `dir`, or null when it cannot be told. */
export function freeBytes(dir: string): number | null {
  try {
    const st = statfsSync(dir);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}

/**
 * Throws NO_SPACE (exit 4) when `bytes` will not fit on the file system holding `dir`
 * (`what` says what was about to be written, `where` names the place for the user). Where
 * free space cannot be told, the write itself reports ENOSPC.
 */
export function assertSpaceFor(dir: string, bytes: number, what: string, where = dir): void {
  if (bytes <= 0) return;
  const free = freeBytes(dir);
  if (free === null || bytes <= free) return;
  throw new ModelctlError('NO_SPACE', `no space left for ${what}: it needs ${bytes} bytes on the device holding ${where}, which has ${free} free; nothing was written`, {
    exitCode: ExitCode.CONFLICT,
    hint: 'free some space (`modelctl gc` drops unreferenced objects) and run the command again',
    data: { needed: bytes, free, where },
  });
}
