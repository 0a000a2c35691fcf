/**
 * The one thing a tensor-header reader needs from the outside world: positional reads over
 * a known number of bytes. A store object, a working file or (in tests) a buffer; readers
 * never see a path or a file descriptor, so they are pure parsing and unit-tested on buffers.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws RangeError when the range leaves the source (readers check first). */
  read(offset: number, length: number): Uint8Array;
}

/** A ByteSource over bytes in memory (tests, small files). */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.length) throw new RangeError(`read ${offset}+${length} outside ${bytes.length} bytes`);
      return bytes.subarray(offset, offset + length);
    },
  };
}
