import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { ModelctlError, type ExitCodeValue } from '../errors.js';

/**
 * Opening only regular files (docs/design.md §9). An open of a FIFO blocks until someone
 * opens its other end — for ever, in a thread no signal can free, so neither the command
 * nor Ctrl-C would end; a device can be read without end. Every path modelctl reads that
 * someone else could have planted (the work tree, settings files, a folder remote, the
 * store) is opened here: non-blocking (a FIFO open returns at once), then checked with
 * fstat on the descriptor itself (no window between check and open), and refused unless it
 * is a regular file. O_NONBLOCK changes nothing for reads of regular files.
 */

/** What a file system entry is, in words, for messages. */
export function entryKind(st: Pick<Stats, 'isFile' | 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice' | 'isSymbolicLink'>): string {
  if (st.isFile()) return 'regular file';
  if (st.isDirectory()) return 'folder';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSymbolicLink()) return 'symbolic link';
  return 'special file';
}

/** A path that is a FIFO, socket, device or folder where a regular file was expected. */
export class NotRegularFileError extends ModelctlError {
  constructor(
    readonly path: string,
    readonly kind: string,
    opts: { exitCode?: ExitCodeValue; shown?: string } = {},
  ) {
    super('NOT_A_FILE', `'${opts.shown ?? path}' is a ${kind}, not a regular file`, {
      exitCode: opts.exitCode ?? 2,
      hint: 'modelctl only reads regular files (and links to them); move it away or replace it with a file',
      data: { path: opts.shown ?? path, kind },
    });
  }
}

/**
 * Opens `path` for reading without blocking and returns the descriptor, or throws
 * NotRegularFileError (the descriptor closed) when it is not a regular file. With
 * `follow: false` a symbolic link itself is refused (ELOOP). Errors of the open itself
 * (ENOENT, EACCES…) are thrown as they are, for the caller to map.
 */
export function openRegularSync(path: string, opts: { follow?: boolean } = {}): number {
  const flags = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | (opts.follow === false ? fsConstants.O_NOFOLLOW : 0);
  const fd = openSync(path, flags);
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new NotRegularFileError(path, entryKind(st));
  }
  return fd;
}

/** A regular file bigger than a reader accepts. */
export class FileTooLargeError extends ModelctlError {
  constructor(path: string, limit: number) {
    super('FILE_TOO_LARGE', `'${path}' is larger than the ${limit} bytes accepted here`, {
      exitCode: 2,
      hint: 'it is not the file modelctl expects; check the path',
      data: { path, limit },
    });
  }
}

/**
 * Reads a whole regular file (readFileSync for paths someone else may control): refuses
 * FIFOs, sockets, devices and folders (NotRegularFileError) and files over `maxBytes`
 * (FileTooLargeError; default 64 MiB). Open errors are thrown as they are.
 */
export function readRegularFileSync(path: string, opts: { maxBytes?: number; follow?: boolean } = {}): Buffer {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  const fd = openRegularSync(path, opts);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new FileTooLargeError(path, maxBytes);
    // Read to the end whatever the size said (a file still being written), up to the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    let buf = Buffer.allocUnsafe(Math.max(size, 1) + 1);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new FileTooLargeError(path, maxBytes);
      chunks.push(buf.subarray(0, n));
      buf = Buffer.allocUnsafe(64 * 1024);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
