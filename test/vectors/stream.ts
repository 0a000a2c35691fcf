import { createHash } from 'node:crypto';

/**
 * The seeded pseudo-random stream of the chunker test vectors: block i (32 bytes) is
 * sha256(seed ‖ u32be(i)); the stream is the blocks concatenated, cut to `length`.
 * Anyone can regenerate it from this definition in any language.
 */
export function vectorStream(seed: string, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  const prefix = Buffer.from(seed, 'utf8');
  const counter = Buffer.alloc(4);
  for (let i = 0, off = 0; off < length; i++, off += 32) {
    counter.writeUInt32BE(i, 0);
    const block = createHash('sha256').update(prefix).update(counter).digest();
    block.copy(out, off, 0, Math.min(32, length - off));
  }
  return out;
}
