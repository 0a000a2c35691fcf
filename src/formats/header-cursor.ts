import type { ByteSource } from './byte-source.js';
import { TENSOR_LIMITS } from './tensor-header.js';

/** Bytes read ahead per refill: headers are parsed in many small steps, reads are few and large. */
const WINDOW = 256 * 1024;

/**
 * A little-endian cursor over a ByteSource for headers parsed field by field (GGUF). Reads
 * ahead in windows, refuses to run past `end`, and counts the bytes it consumed against
 * the header budget (TENSOR_LIMITS.headerBytes), so a header that claims millions of
 * entries costs at most the budget before it is refused. `fail` builds the reader's error.
 */
export class HeaderCursor {
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private bufStart = 0;
  pos: number;

  constructor(
    private readonly src: ByteSource,
    start: number,
    private readonly end: number,
    private readonly fail: (message: string) => Error,
  ) {
    this.pos = start;
  }

  /** Makes bytes [pos, pos + n) available, or fails naming `what`. */
  private need(n: number, what: string): number {
    if (n < 0 || this.pos + n > this.end) throw this.fail(`${what} runs past the end of the file (at byte ${this.pos}, ${n} bytes wanted)`);
    if (this.pos + n > TENSOR_LIMITS.headerBytes) throw this.fail(`the header is larger than the ${TENSOR_LIMITS.headerBytes}-byte limit`);
    const rel = this.pos - this.bufStart;
    if (rel >= 0 && rel + n <= this.buf.length) return rel;
    const len = Math.min(Math.max(n, WINDOW), this.end - this.pos);
    this.buf = this.src.read(this.pos, len);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufStart = this.pos;
    return 0;
  }

  u8(what = 'a byte'): number {
    const r = this.need(1, what);
    this.pos += 1;
    return this.buf[r];
  }

  u16(what = 'a 16-bit value'): number {
    const r = this.need(2, what);
    this.pos += 2;
    return this.view.getUint16(r, true);
  }

  i16(what = 'a 16-bit value'): number {
    const r = this.need(2, what);
    this.pos += 2;
    return this.view.getInt16(r, true);
  }

  u32(what = 'a 32-bit value'): number {
    const r = this.need(4, what);
    this.pos += 4;
    return this.view.getUint32(r, true);
  }

  i32(what = 'a 32-bit value'): number {
    const r = this.need(4, what);
    this.pos += 4;
    return this.view.getInt32(r, true);
  }

  f32(what = 'a float'): number {
    const r = this.need(4, what);
    this.pos += 4;
    return this.view.getFloat32(r, true);
  }

  f64(what = 'a double'): number {
    const r = this.need(8, what);
    this.pos += 8;
    return this.view.getFloat64(r, true);
  }

  /** An unsigned 64-bit value as a bigint (lengths are checked by the caller before use). */
  u64(what = 'a 64-bit value'): bigint {
    const r = this.need(8, what);
    this.pos += 8;
    return this.view.getBigUint64(r, true);
  }

  i64(what = 'a 64-bit value'): bigint {
    const r = this.need(8, what);
    this.pos += 8;
    return this.view.getBigInt64(r, true);
  }

  /** `n` bytes (a view into the read-ahead window: copy before the next read if kept). */
  bytes(n: number, what = 'bytes'): Uint8Array {
    const r = this.need(n, what);
    this.pos += n;
    return this.buf.subarray(r, r + n);
  }

  /** Skips `n` bytes without reading them when they lie beyond the window. */
  skip(n: number, what = 'bytes'): void {
    if (n < 0 || this.pos + n > this.end) throw this.fail(`${what} runs past the end of the file (at byte ${this.pos}, ${n} bytes wanted)`);
    if (this.pos + n > TENSOR_LIMITS.headerBytes) throw this.fail(`the header is larger than the ${TENSOR_LIMITS.headerBytes}-byte limit`);
    this.pos += n;
  }
}
