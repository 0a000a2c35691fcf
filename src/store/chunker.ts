import { CHUNKING, gearTable } from './gear.js';

/**
 * Streaming FastCDC (gear rolling hash, cut-point skipping, normalized chunking level 2).
 *
 * For each chunk: the first `minSize` bytes are skipped without hashing; from then on,
 * for each byte b at chunk position p, h = (h << 1) + GEAR[b] (32-bit), and the chunk ends
 * after b when (h & mask) == 0, with mask = maskS while p < avgSize and maskL after; a
 * chunk never exceeds maxSize; the last chunk ends at end of input. h starts at 0 for each
 * chunk. Feed bytes with `push` in any slicing: the cut points are the same (that is what
 * makes streaming with a reused buffer possible and what the test vectors pin).
 */
export class Chunker {
  private chunkLen = 0;
  private hash = 0;
  private readonly min: number;
  private readonly avg: number;
  private readonly max: number;
  private readonly maskS: number;
  private readonly maskL: number;

  constructor(params: { minSize: number; avgSize: number; maxSize: number; maskS: number; maskL: number } = CHUNKING) {
    this.min = params.minSize;
    this.avg = params.avgSize;
    this.max = params.maxSize;
    this.maskS = params.maskS | 0;
    this.maskL = params.maskL | 0;
  }

  /**
   * Scans `buf[start, end)` and returns the offsets within `buf` just after each cut point
   * found (a chunk ends before that offset). State carries over to the next call.
   */
  push(buf: Uint8Array, start = 0, end = buf.length): number[] {
    const cuts: number[] = [];
    const G = gearTable();
    let i = start;
    let len = this.chunkLen;
    let h = this.hash;
    while (i < end) {
      if (len < this.min) {
        const skip = Math.min(this.min - len, end - i);
        len += skip;
        i += skip;
        h = 0;
        continue;
      }
      // Small-mask region up to avg, then large-mask region up to max; each loop is tight.
      if (len < this.avg) {
        const stop = Math.min(end, i + (this.avg - len));
        const mask = this.maskS;
        let j = i;
        for (; j < stop; j++) {
          h = ((h << 1) + G[buf[j]]) | 0;
          if ((h & mask) === 0) break;
        }
        if (j < stop) {
          cuts.push(j + 1);
          i = j + 1;
          len = 0;
          h = 0;
          continue;
        }
        len += stop - i;
        i = stop;
        continue;
      }
      const stop = Math.min(end, i + (this.max - len));
      const mask = this.maskL;
      let j = i;
      for (; j < stop; j++) {
        h = ((h << 1) + G[buf[j]]) | 0;
        if ((h & mask) === 0) break;
      }
      if (j < stop) {
        cuts.push(j + 1);
        i = j + 1;
        len = 0;
        h = 0;
        continue;
      }
      len += stop - i;
      i = stop;
      if (len >= this.max) {
        cuts.push(i);
        len = 0;
        h = 0;
      }
    }
    this.chunkLen = len;
    this.hash = h;
    return cuts;
  }

  /** Bytes of the current, unfinished chunk (the last chunk when input has ended). */
  get pending(): number {
    return this.chunkLen;
  }
}
