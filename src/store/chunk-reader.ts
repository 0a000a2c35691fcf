import { closeSync, openSync, readSync } from 'node:fs';
import { fsError } from '../errors.js';

/** Reads `length` bytes at `offset` of a local file into a new Buffer (a chunk of an object). */
export function readRange(path: string, offset: number, length: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) throw new Error(`${path} is shorter than expected`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}
