import { closeSync, openSync } from 'node:fs';
import { fsError } from '../errors.js';
import type { ByteSource } from '../formats/byte-source.js';
import type { ObjectStore } from './objects.js';
import { readAt } from './positional-io.js';

/** A ByteSource over one store object, counting the bytes read through it. */
export interface ObjectSource extends ByteSource {
  close(): void;
}

/**
 * Opens a whole-file object of the store for positional reads (objects never change, so
 * reads need no locking). `onRead` is told the size of every read, for the byte counts that
 * `diff --tensors` reports. Missing object → FILE_NOT_FOUND (3).
 */
export function openObjectSource(store: ObjectStore, digest: string, size: number, onRead?: (bytes: number) => void): ObjectSource {
  const path = store.objectPath(digest);
  let fd: number | null;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, `object ${digest.slice(0, 12)}`);
  }
  return {
    size,
    read(offset, length) {
      if (fd === null) throw new Error('BUG: read after close');
      if (offset < 0 || length < 0 || offset + length > size) throw new RangeError(`read ${offset}+${length} outside ${size} bytes`);
      onRead?.(length);
      const buf = readAt(fd, offset, length);
      if (!buf) throw fsError(new Error('the object is shorter than its recorded size'), `object ${digest.slice(0, 12)}`);
      return buf;
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
