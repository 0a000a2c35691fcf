import type { ByteSource } from '../byte-source.js';
import { TENSOR_LIMITS } from '../tensor-header.js';
import type { OnnxSchema } from './onnx-schema.js';
import type { Type } from 'protobufjs';

/** One field of a protobuf message as it lies in the file. */
export interface WireField {
  id: number;
  wireType: number;
  /** Where its tag starts. */
  start: number;
  /** Where its value starts (after the tag, and the length of a length-delimited field). */
  valueStart: number;
  /** Where it ends. */
  end: number;
}

const SMALL_WINDOW = 4 * 1024;
const LARGE_WINDOW = 256 * 1024;
/** Field visits allowed in one file: bounds the time a file of millions of tiny fields costs. */
const MAX_FIELDS = 20_000_000;

/**
 * Walks a protobuf file field by field without decoding what it skips: tags and lengths are
 * read with protobufjs's Reader over small windows of the file, and only the fields a caller
 * keeps are decoded (with the schema's message types). Weight bytes are never read. Windows
 * start small after a skip and grow while reading runs on, so skipping a tensor's data costs
 * one small read, not a read-ahead of the data. Decoded bytes count against the header budget.
 */
export class ProtoWalker {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private nextWindow = SMALL_WINDOW;
  private decoded = 0;
  private visits = 0;

  constructor(
    private readonly src: ByteSource,
    private readonly schema: OnnxSchema,
    private readonly fail: (message: string) => Error,
  ) {}

  /** Bytes [pos, pos + n) from the window, refilling it (n is small: a tag and a length). */
  private peek(pos: number, n: number): Uint8Array {
    const rel = pos - this.bufStart;
    if (rel >= 0 && rel + n <= this.buf.length) return this.buf.subarray(rel, rel + n);
    const continuing = pos === this.bufStart + this.buf.length;
    this.nextWindow = continuing ? Math.min(this.nextWindow * 2, LARGE_WINDOW) : SMALL_WINDOW;
    const len = Math.max(n, Math.min(this.nextWindow, this.src.size - pos));
    this.buf = this.src.read(pos, len);
    this.bufStart = pos;
    return this.buf.subarray(0, n);
  }

  /** The fields of the message occupying [start, end), in file order. */
  *fields(start: number, end: number): Generator<WireField> {
    let pos = start;
    while (pos < end) {
      if (++this.visits > MAX_FIELDS) throw this.fail(`more than ${MAX_FIELDS} protobuf fields`);
      const head = this.peek(pos, Math.min(end - pos, 20));
      const r = this.schema.createReader(head);
      let id: number;
      let wireType: number;
      let valueStart: number;
      let fieldEnd: number;
      try {
        const tag = r.uint32();
        const tagLength = r.pos;
        id = tag >>> 3;
        wireType = tag & 7;
        if (id === 0) throw this.fail(`a field numbered 0 at byte ${pos}`);
        switch (wireType) {
          case 0:
            r.skipType(0);
            valueStart = pos + tagLength;
            fieldEnd = pos + r.pos;
            break;
          case 1:
            valueStart = pos + r.pos;
            fieldEnd = valueStart + 8;
            break;
          case 5:
            valueStart = pos + r.pos;
            fieldEnd = valueStart + 4;
            break;
          case 2: {
            const len = r.uint64() as unknown as number | { toNumber(): number };
            const n = typeof len === 'number' ? len : len.toNumber();
            valueStart = pos + r.pos;
            if (!Number.isSafeInteger(n) || n < 0 || n > end - valueStart) {
              throw this.fail(`field ${id} at byte ${pos} claims ${typeof len === 'number' ? len : String(len)} bytes, past the end of its message`);
            }
            fieldEnd = valueStart + n;
            break;
          }
          default:
            throw this.fail(`field ${id} at byte ${pos} has wire type ${wireType} (groups and unknown types are refused)`);
        }
      } catch (err) {
        if (err instanceof RangeError || (err instanceof Error && /index out of range|invalid varint/i.test(err.message))) {
          throw this.fail(`a truncated field at byte ${pos}`);
        }
        throw err;
      }
      if (fieldEnd > end) throw this.fail(`field ${id} at byte ${pos} runs past the end of its message`);
      yield { id, wireType, start: pos, valueStart, end: fieldEnd };
      pos = fieldEnd;
    }
  }

  /** Reads bytes [start, end) for decoding, counted against the header budget. */
  bytes(start: number, end: number): Uint8Array {
    this.decoded += end - start;
    if (this.decoded > TENSOR_LIMITS.headerBytes) throw this.fail(`more than ${TENSOR_LIMITS.headerBytes} bytes of graph structure`);
    const rel = start - this.bufStart;
    if (rel >= 0 && end - this.bufStart <= this.buf.length) return this.buf.subarray(rel, end - this.bufStart);
    return this.src.read(start, end - start);
  }

  /** Decodes the message made of just these fields (the concatenation of fields is a valid message). */
  decodeFields<T>(type: Type, parts: readonly WireField[]): T {
    const chunks = parts.map((p) => this.bytes(p.start, p.end));
    const total = chunks.reduce((s, c) => s + c.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      joined.set(c, at);
      at += c.length;
    }
    return this.decode<T>(type, joined);
  }

  /** Decodes a whole embedded message (a length-delimited field's value). */
  decodeMessage<T>(type: Type, field: WireField): T {
    return this.decode<T>(type, this.bytes(field.valueStart, field.end));
  }

  private decode<T>(type: Type, bytes: Uint8Array): T {
    try {
      return type.decode(bytes) as unknown as T;
    } catch (err) {
      throw this.fail(`a ${type.name} that does not decode (${err instanceof Error ? err.message : String(err)})`);
    }
  }
}
