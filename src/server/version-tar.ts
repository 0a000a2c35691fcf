import type { ManifestFile } from '../core/manifest.js';
import type { PieceSink, ServedBytes } from '../api/served-bytes.js';

/**
 * A whole version as one tar stream (POSIX ustar, with a PAX header for a path longer than
 * ustar holds): one regular-file entry per file at its recorded path and mode, owner 0,
 * mtime the version's creation time, so the same version always gives the same bytes.
 * Headers are built before the first byte, so the exact length is known up front.
 */

/** One file entry of the stream: its header blocks and where its bytes are. */
export interface TarPart {
  header: Buffer;
  file: ManifestFile;
  /** The file's bytes, checked as they are read (servedFileBytes). */
  bytes: ServedBytes;
}

const BLOCK = 512;

/** The header blocks (and their lengths) of every file, in manifest order. */
export async function tarParts(files: readonly ManifestFile[], bytesOf: (file: ManifestFile) => TarPart['bytes'], mtime: Date): Promise<TarPart[]> {
  const { Header, Pax } = await import('tar');
  return files.map((file) => {
    const data = { path: file.path, mode: file.mode, uid: 0, gid: 0, size: file.size, mtime, type: 'File' as const, uname: '', gname: '' };
    const block = Buffer.alloc(BLOCK);
    const needPax = new Header(data).encode(block, 0);
    // A PAX extended header carries the full path; the ustar header after it keeps a prefix.
    const header = needPax ? Buffer.concat([new Pax({ path: file.path, mtime }).encode(), block]) : block;
    return { header, file, bytes: bytesOf(file) };
  });
}

/** The exact byte length of the stream of `parts`. */
export function tarLength(parts: readonly TarPart[]): number {
  return parts.reduce((n, p) => n + p.header.length + padded(p.file.size), 0) + 2 * BLOCK;
}

/** Sends the stream's bytes into `sink`: each header, the file's bytes, padding; then the end-of-archive blocks. */
export async function writeTar(parts: readonly TarPart[], sink: PieceSink): Promise<void> {
  for (const p of parts) {
    await sink(p.header);
    await p.bytes(0, p.file.size, sink);
    const pad = padded(p.file.size) - p.file.size;
    if (pad) await sink(Buffer.alloc(pad));
  }
  await sink(Buffer.alloc(2 * BLOCK));
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}
