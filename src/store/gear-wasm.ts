import { CHUNKING, gearTable } from './gear.js';

/**
 * The FastCDC boundary scan of chunker.ts, compiled to a tiny WebAssembly function.
 *
 * Why: the scan is the one step of hashing that cannot be split across threads (each cut
 * decides where the next chunk starts), so its speed bounds how fast one big file can be
 * committed. V8 runs the plain-TypeScript loop at ~1 GB/s here; the same loop in
 * WebAssembly runs at ~1.5-2 GB/s, which is what lets commit keep pace with `openssl dgst`.
 *
 * The rule is exactly Chunker.push (chunker.ts, the readable reference): skip `minSize`
 * bytes, then h = (h << 1) + GEAR[b] (32-bit) with the small mask up to `avgSize` and the
 * large mask up to `maxSize`. The chunker test vectors and the parallel-hash tests check
 * that both give the same cut points for every input and every slicing.
 *
 * The module is assembled here from a few dozen instructions (no toolchain, no binary blob
 * to trust): see `scanFunctionBody` for the code, written as structured WebAssembly.
 *
 * Memory layout (the module imports its memory, so the bytes to scan can be read straight
 * into it, and a shared memory can also be hashed by worker threads without copies):
 *   [0, 1024)          the gear table (256 little-endian int32)
 *   [1024, 1032)       scanner state: bytes in the current chunk, rolling hash
 *   [1088, 1088+16K)   cut offsets found by the last call (int32)
 *   [64 KiB, …)        data (at least SCRATCH_BYTES)
 */

/** Where data may start in a scanner's memory. */
export const WASM_DATA_OFFSET = 64 * 1024;
const STATE_LEN = 1024;
const STATE_HASH = 1028;
const CUTS_OFFSET = 1088;
/** Cut slots: one call never scans more than MAX_SCAN_BYTES, so never finds more cuts. */
const MAX_CUTS = 4096;
/** Largest range one call of the wasm function scans (cuts ≤ range / minSize + 1 < MAX_CUTS). */
const MAX_SCAN_BYTES = 64 * 1024 * 1024;
/** Data area of a thread's private engine: file reads land here; other bytes are copied here. */
export const SCRATCH_BYTES = 4 * 1024 * 1024;
/** Length of the first call of a scan (see ScanEngine.scan). */
const FIRST_CALL_BYTES = 1024 * 1024;
const PAGE = 64 * 1024;

// WebAssembly opcodes used below.
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Load8u: 0x2d,
  i32Store: 0x36,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32LeU: 0x4d,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
} as const;
const VOID = 0x40;
const I32 = 0x7f;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const i32 = (n: number): number[] => [OP.i32Const, ...sleb(n)];
const get = (local: number): number[] => [OP.localGet, local];
const set = (local: number): number[] => [OP.localSet, local];
/** memarg: alignment exponent and offset. */
const load32 = (offset = 0): number[] => [OP.i32Load, 2, ...uleb(offset)];
const store32 = (offset = 0): number[] => [OP.i32Store, 2, ...uleb(offset)];

// Locals of `scan(i, end) -> cuts`: the two parameters, then the rest.
const I = 0;
const END = 1;
const LEN = 2;
const H = 3;
const N4 = 4; // cut count × 4 (a byte offset into the cut area)
const STOP = 5;
const J = 6;
const MASK = 7;
const G1 = 9;
const UNROLL = 8;
const LIMIT = 8;

/**
 * The scan function. In structured form:
 *
 *   len = mem[STATE_LEN]; h = mem[STATE_HASH]; n4 = 0
 *   outer: loop
 *     if i >= end: break
 *     if len < min: skip = min(min - len, end - i); len += skip; i += skip; h = 0; continue
 *     (mask, limit) = len < avg ? (maskS, avg) : (maskL, max)
 *     stop = min(end, i + (limit - len)); j = i
 *     inner: loop
 *       if j >= stop: goto notFound
 *       h = (h << 1) + GEAR[mem[j]]
 *       if (h & mask) == 0: goto found
 *       j += 1
 *     found: cuts[n4] = j + 1; n4 += 4; i = j + 1; len = 0; h = 0; continue
 *     notFound: len += stop - i; i = stop
 *       if len >= max: cuts[n4] = i; n4 += 4; len = 0; h = 0
 *   mem[STATE_LEN] = len; mem[STATE_HASH] = h; return n4 >> 2
 */
function scanFunctionBody(): number[] {
  const { minSize, avgSize, maxSize, maskS, maskL } = CHUNKING;
  // h = (h << 1) + GEAR[mem[j + k]]; leaves (h & mask) == 0 on the stack.
  const rollByte = (k: number) => [
    ...get(H), ...i32(1), OP.i32Shl,
    ...get(J), OP.i32Load8u, 0, ...uleb(k), ...i32(2), OP.i32Shl, ...load32(0),
    OP.i32Add, OP.localTee, H,
    ...get(MASK), OP.i32And, OP.i32Eqz,
  ];
  const gearAt = (k: number) => [...get(J), OP.i32Load8u, 0, ...uleb(k), ...i32(2), OP.i32Shl, ...load32(0)];
  const foundAt = (k: number) => [
    OP.if, VOID, // a cut after byte j + k: leave j there and branch to found (if, if, loop, found)
    ...(k ? [...get(J), ...i32(k), OP.i32Add, ...set(J)] : []),
    OP.br, 3,
    OP.end,
  ];
  // Two bytes per step with the serial dependency halved: h2 = (h << 2) + (g1 << 1) + g2,
  // while h1 = (h << 1) + g1 is computed beside it only for its mask test.
  const rollPair = (k: number) => [
    ...gearAt(k), OP.localTee, G1,
    ...get(H), ...i32(1), OP.i32Shl, OP.i32Add,
    ...get(MASK), OP.i32And, OP.i32Eqz, ...foundAt(k),
    ...get(H), ...i32(2), OP.i32Shl,
    ...get(G1), ...i32(1), OP.i32Shl, ...gearAt(k + 1), OP.i32Add,
    OP.i32Add, OP.localTee, H,
    ...get(MASK), OP.i32And, OP.i32Eqz, ...foundAt(k + 1),
  ];
  const resetChunk = [...i32(0), ...set(LEN), ...i32(0), ...set(H)];
  const pushCut = (valueCode: number[]) => [
    ...get(N4), ...valueCode, ...store32(CUTS_OFFSET),
    ...get(N4), ...i32(4), OP.i32Add, ...set(N4),
  ];
  const code = [
    ...i32(0), ...load32(STATE_LEN), ...set(LEN),
    ...i32(0), ...load32(STATE_HASH), ...set(H),
    OP.block, VOID, // depth target: exit
    OP.loop, VOID, // outer
    ...get(I), ...get(END), OP.i32GeU, OP.brIf, 1,
    // Cut-point skipping: the first minSize bytes of a chunk are not hashed.
    ...get(LEN), ...i32(minSize), OP.i32LtU,
    OP.if, VOID,
    ...i32(minSize), ...get(LEN), OP.i32Sub,
    ...get(END), ...get(I), OP.i32Sub,
    ...i32(minSize), ...get(LEN), OP.i32Sub, ...get(END), ...get(I), OP.i32Sub, OP.i32LtU,
    OP.select, OP.localTee, STOP,
    ...get(LEN), OP.i32Add, ...set(LEN),
    ...get(I), ...get(STOP), OP.i32Add, ...set(I),
    ...i32(0), ...set(H),
    OP.br, 1, // continue outer
    OP.end,
    // Normalized chunking: the harder mask before avgSize, the easier one after.
    ...get(LEN), ...i32(avgSize), OP.i32LtU,
    OP.if, VOID,
    ...i32(maskS), ...set(MASK), ...i32(avgSize), ...set(LIMIT),
    OP.else,
    ...i32(maskL), ...set(MASK), ...i32(maxSize), ...set(LIMIT),
    OP.end,
    // stop = min(end, i + (limit - len))
    ...get(I), ...get(LIMIT), ...get(LEN), OP.i32Sub, OP.i32Add, OP.localTee, STOP,
    ...get(END),
    ...get(STOP), ...get(END), OP.i32LtU,
    OP.select, ...set(STOP),
    ...get(I), ...set(J),
    OP.block, VOID, // notFound
    OP.block, VOID, // found
    OP.loop, VOID, // inner
    // Unrolled by UNROLL while that many bytes remain: one bounds check per UNROLL bytes.
    ...get(J), ...i32(UNROLL), OP.i32Add, ...get(STOP), OP.i32LeU,
    OP.if, VOID,
    ...Array.from({ length: UNROLL / 2 }, (_, pair) => rollPair(2 * pair)).flat(),
    ...get(J), ...i32(UNROLL), OP.i32Add, ...set(J),
    OP.br, 1, // continue inner
    OP.end,
    ...get(J), ...get(STOP), OP.i32GeU, OP.brIf, 2,
    ...rollByte(0), OP.brIf, 1,
    ...get(J), ...i32(1), OP.i32Add, ...set(J),
    OP.br, 0,
    OP.end, // inner
    OP.end, // found:
    ...pushCut([...get(J), ...i32(1), OP.i32Add]),
    ...get(J), ...i32(1), OP.i32Add, ...set(I),
    ...resetChunk,
    OP.br, 1, // continue outer
    OP.end, // notFound:
    ...get(LEN), ...get(STOP), ...get(I), OP.i32Sub, OP.i32Add, ...set(LEN),
    ...get(STOP), ...set(I),
    ...get(LEN), ...i32(maxSize), OP.i32GeU,
    OP.if, VOID,
    ...pushCut(get(I)),
    ...resetChunk,
    OP.end,
    OP.br, 0, // continue outer
    OP.end, // outer
    OP.end, // exit
    ...i32(0), ...get(LEN), ...store32(STATE_LEN),
    ...i32(0), ...get(H), ...store32(STATE_HASH),
    ...get(N4), ...i32(2), OP.i32ShrU,
    OP.end,
  ];
  const locals = [1, 8, I32]; // one group: 8 more i32 locals
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(shared: boolean): Uint8Array {
  // An imported memory, min 1 page; a shared memory must declare a maximum.
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 1, I32]), // type (i32, i32) -> i32
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, ...limits]), // import memory
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...name('scan'), 0x00, 0]), // export it as "scan"
    ...section(10, [1, ...scanFunctionBody()]),
  ]);
}

/**
 * The slice of the WebAssembly JS API used here. TypeScript declares `WebAssembly` only in
 * its DOM libraries, which this Node project does not load.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A memory for a WasmChunker: the fixed layout plus `dataBytes` from WASM_DATA_OFFSET (shared: usable by worker threads). */
export function createScannerMemory(dataBytes: number, shared: boolean): WasmMemory {
  const pages = Math.ceil((WASM_DATA_OFFSET + Math.max(dataBytes, SCRATCH_BYTES)) / PAGE);
  return shared ? new wasm.Memory({ initial: pages, maximum: pages, shared: true }) : new wasm.Memory({ initial: pages });
}

const compiled = new Map<boolean, object>();
function compiledModule(shared: boolean): object {
  let m = compiled.get(shared);
  if (!m) {
    m = new wasm.Module(moduleBytes(shared));
    compiled.set(shared, m);
  }
  return m;
}

/** True when `memory` is a shared WebAssembly memory. */
function isShared(memory: WasmMemory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * One instance of the scan function bound to one memory. The scanner state lives in JS
 * (WasmChunker) and is loaded into the memory for each call, so any number of chunkers can
 * take turns on one engine (JavaScript calls never interleave).
 */
export class ScanEngine {
  readonly memory: WasmMemory;
  private readonly scanFn: (start: number, end: number) => number;
  private readonly state: Int32Array;
  private readonly cuts: Int32Array;

  constructor(memory: WasmMemory) {
    if (memory.buffer.byteLength < WASM_DATA_OFFSET + SCRATCH_BYTES) throw new Error('BUG: scanner memory is smaller than its fixed layout');
    this.memory = memory;
    const instance = new wasm.Instance(compiledModule(isShared(memory)), { env: { mem: memory } });
    this.scanFn = instance.exports.scan as (start: number, end: number) => number;
    new Int32Array(memory.buffer, 0, 256).set(gearTable());
    this.state = new Int32Array(memory.buffer, STATE_LEN, 2);
    this.cuts = new Int32Array(memory.buffer, CUTS_OFFSET, MAX_CUTS);
  }

  /** A view of `length` bytes of this memory at absolute `offset`. */
  view(offset: number, length: number): Buffer {
    return Buffer.from(this.memory.buffer, offset, length);
  }

  /**
   * Scans memory [start, end) from `state` (updated in place) and appends the absolute
   * offsets just after each cut to `out`.
   */
  scan(start: number, end: number, state: ScanState, out: number[]): void {
    if (start < WASM_DATA_OFFSET || end > this.memory.buffer.byteLength) throw new Error('BUG: scan outside the data area');
    this.state[0] = state.chunkLen;
    this.state[1] = state.hash;
    for (let from = start; from < end; ) {
      // V8 runs a wasm function in its baseline tier until a later call picks up the
      // optimized code, so the first call of a scan is kept short.
      const to = Math.min(end, from + (from === start ? FIRST_CALL_BYTES : MAX_SCAN_BYTES));
      const n = this.scanFn(from, to);
      for (let k = 0; k < n; k++) out.push(this.cuts[k]);
      from = to;
    }
    state.chunkLen = this.state[0];
    state.hash = this.state[1];
  }
}

/** The rolling state between two scans of one input. */
export interface ScanState {
  chunkLen: number;
  hash: number;
}

let scratchEngine: ScanEngine | undefined;
/** This thread's engine with a private 1 MiB scratch area, for bytes that live elsewhere. */
export function scratchScanEngine(): ScanEngine {
  scratchEngine ??= new ScanEngine(createScannerMemory(SCRATCH_BYTES, false));
  return scratchEngine;
}

/**
 * A chunk-boundary scanner with Chunker's contract (same cut points for any slicing of the
 * input) running the WebAssembly scan. `push` copies the bytes through the engine's scratch
 * area (a memcpy, far cheaper than the scan); `scanInPlace` scans bytes already read into
 * the engine's memory.
 */
export class WasmChunker {
  private readonly state: ScanState = { chunkLen: 0, hash: 0 };

  constructor(readonly engine: ScanEngine = scratchScanEngine()) {}

  /** Starts a new input (the next byte begins a chunk). */
  reset(): void {
    this.state.chunkLen = 0;
    this.state.hash = 0;
  }

  /** Bytes of the current, unfinished chunk (the last chunk when input has ended). */
  get pending(): number {
    return this.state.chunkLen;
  }

  /** Scans engine memory [start, end) (absolute offsets); appends absolute offsets just after each cut to `out`. */
  scanInPlace(start: number, end: number, out: number[]): void {
    this.engine.scan(start, end, this.state, out);
  }

  /** Chunker.push: scans `buf[start, end)`, returns the offsets in `buf` just after each cut. */
  push(buf: Uint8Array, start = 0, end = buf.length): number[] {
    const cuts: number[] = [];
    const mem = this.engine.memory.buffer;
    if (buf.buffer === mem && buf.byteOffset + start >= WASM_DATA_OFFSET) {
      this.engine.scan(buf.byteOffset + start, buf.byteOffset + end, this.state, cuts);
      for (let k = 0; k < cuts.length; k++) cuts[k] -= buf.byteOffset;
      return cuts;
    }
    const scratch = new Uint8Array(mem, WASM_DATA_OFFSET, SCRATCH_BYTES);
    const found: number[] = [];
    for (let from = start; from < end; ) {
      const n = Math.min(SCRATCH_BYTES, end - from);
      scratch.set(buf.subarray(from, from + n));
      found.length = 0;
      this.engine.scan(WASM_DATA_OFFSET, WASM_DATA_OFFSET + n, this.state, found);
      for (const c of found) cuts.push(c - WASM_DATA_OFFSET + from);
      from += n;
    }
    return cuts;
  }
}
