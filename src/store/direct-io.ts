import { constants as fsConstants, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Writes that bypass the page cache (O_DIRECT, Linux): the one home of the descriptors, the
 * alignment rule and the aligned memory they need. Why: on this VM, putting a GiB into the
 * page cache cost 0.6-4.5 s of system time (its page allocation), and an fsync then waits for
 * every dirty byte; an O_DIRECT write costs neither CPU nor cache and waits on the disk
 * (docs/design.md §4 and §7). Offsets, lengths and memory must be aligned to DIRECT_ALIGN;
 * a write the file system refuses fails with EINVAL, and callers then use the page cache.
 */

/** O_DIRECT needs file offsets, lengths and memory aligned to the device block size. */
export const DIRECT_ALIGN = 4096;

const directFlag = (fsConstants as Record<string, number>).O_DIRECT;
const direct = directFlag !== undefined && process.platform === 'linux';

/** An O_DIRECT descriptor for the file behind `fd`, or -1 when not possible here. */
export function openDirect(fd: number): number {
  if (!direct) return -1;
  try {
    return openSync(`/proc/self/fd/${fd}`, fsConstants.O_WRONLY | directFlag!);
  } catch {
    return -1;
  }
}

/** openDirect for a FileHandle, as a FileHandle; null when not possible here. */
export async function openDirectHandle(fh: FileHandle): Promise<FileHandle | null> {
  if (!direct) return null;
  try {
    return await open(`/proc/self/fd/${fh.fd}`, fsConstants.O_WRONLY | directFlag!);
  } catch {
    return null;
  }
}

interface SharedMemoryApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => { readonly buffer: SharedArrayBuffer };
}
const WASM_PAGE = 64 * 1024;

/**
 * A SharedArrayBuffer of at least `bytes` that starts on a page boundary: a shared
 * WebAssembly memory (a plain SharedArrayBuffer comes from malloc, 16 bytes past a page).
 * Shared, so a worker thread can read the bytes an O_DIRECT write takes from it.
 */
export function pageAlignedSharedBuffer(bytes: number): SharedArrayBuffer {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  const wasm = (globalThis as unknown as { WebAssembly: SharedMemoryApi }).WebAssembly;
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
}
