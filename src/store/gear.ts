import { createHash } from 'node:crypto';

/**
 * Chunking parameters of format version 1 (docs/design.md §4). Changing any of these, or the gear
 * table below, changes every chunk boundary: the test vectors in test/vectors/ fail.
 */
export const CHUNKING = {
  algorithm: 'fastcdc-gear32-nc2',
  minSize: 256 * 1024,
  avgSize: 1024 * 1024,
  maxSize: 4 * 1024 * 1024,
  /** Used while the chunk is shorter than avgSize: 22 one-bits (harder to match). */
  maskS: 0xfffffc00,
  /** Used once the chunk is avgSize or longer: 18 one-bits (easier to match). */
  maskL: 0xffffc000,
  gearSeed: 'modelctl-gear-v1',
} as const;

let gear: Int32Array | undefined;

/**
 * The gear table: entry i is the first four bytes, big-endian, of
 * sha256("modelctl-gear-v1" ‖ u32be(i)). Stored as Int32 so the rolling hash stays in
 * 32-bit integer arithmetic in V8. Built on first use, not when the module loads: every
 * command loads this module, few chunk anything (a commit of files below the minimum chunk
 * size never scans), and the 256 hashes (~2 ms) load node:crypto (~4 ms with the streams
 * behind it; docs/design.md §1, Build).
 */
export function gearTable(): Int32Array {
  if (gear) return gear;
  const table = new Int32Array(256);
  const buf = Buffer.alloc(CHUNKING.gearSeed.length + 4);
  buf.write(CHUNKING.gearSeed, 0, 'ascii');
  for (let i = 0; i < 256; i++) {
    buf.writeUInt32BE(i, CHUNKING.gearSeed.length);
    table[i] = createHash('sha256').update(buf).digest().readInt32BE(0);
  }
  return (gear = table);
}

/** sha256 over the gear table's bytes, recorded in the remote format marker. */
export function gearTableDigest(): string {
  return createHash('sha256').update(Buffer.from(gearTable().buffer)).digest('hex');
}
