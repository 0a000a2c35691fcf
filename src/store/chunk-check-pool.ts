import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { builtFile } from '../package-paths.js';
import { runChunkJob, type ChunkJob, type ChunkJobVerdict } from './chunk-check.js';
import { CHUNKING } from './gear.js';
import { DIRECT_ALIGN, pageAlignedSharedBuffer } from './direct-io.js';
import { hashThreads, reviveWorkerError, type WorkerError } from './parallel-hash.js';

/** Bytes per slot: the largest chunk the chunker makes. */
export const SLOT_BYTES = CHUNKING.maxSize;
/**
 * Distance between two slots: a chunk is received DIRECT_ALIGN bytes or less into its slot,
 * at the offset that makes its bytes' addresses agree with their file offsets modulo
 * DIRECT_ALIGN, so its block-aligned middle can be written with O_DIRECT (chunk-check.ts).
 */
const SLOT_STRIDE = SLOT_BYTES + DIRECT_ALIGN;
/** Chunks shorter than this are checked on the calling thread. */
const SMALL_JOB_BYTES = 128 * 1024;

/** What a checking thread gets at start. */
export interface ChunkCheckWorkerData {
  memory: SharedArrayBuffer;
}

/** A message to a checking thread, and its answer. */
export interface ChunkCheckRequest {
  id: number;
  job: ChunkJob;
}
export interface ChunkCheckAnswer {
  id: number;
  verdict?: ChunkJobVerdict;
  error?: WorkerError;
}

interface CheckingThread {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  inFlight: Map<number, { job: ChunkJob; resolve: (v: ChunkJobVerdict) => void; reject: (e: Error) => void }>;
}

/**
 * Slots of shared memory that downloads receive chunks into, and threads that check
 * (sha256, cut points) and write them, so the thread that talks to the network does
 * nothing else (docs/design.md §7, verified download).
 *
 * Memory stays flat whatever the size of the download: `slotCount` slots of SLOT_BYTES
 * (page-aligned, for O_DIRECT), each holding one chunk from its arrival until it is written.
 * Threads start on the first job; until one is ready, and for the jobs of a thread that died, jobs run on this
 * thread (they are idempotent). With `threads` 0 every job runs here. The threads are
 * unref'd and ended by close().
 */
export class ChunkCheckPool {
  readonly memory: SharedArrayBuffer;
  private readonly bytes: Uint8Array;
  private readonly free: number[];
  private readonly waiting: ((slot: number) => void)[] = [];
  private readonly threads: CheckingThread[] = [];
  private readonly threadCount: number;
  private nextId = 1;
  private closed = false;

  constructor(slotCount: number, threads: number) {
    this.memory = pageAlignedSharedBuffer(slotCount * SLOT_STRIDE);
    this.bytes = new Uint8Array(this.memory);
    this.free = Array.from({ length: slotCount }, (_, k) => slotCount - 1 - k);
    this.threadCount = threads;
  }

  /**
   * The bytes of slot `slot` to receive a chunk of `length` bytes into that check will write
   * at file offset `position` (its job.writeTo.position; any value when nothing is written).
   */
  view(slot: number, length: number, position: number): Buffer {
    if (length > SLOT_BYTES) throw new Error(`BUG: a ${length}-byte chunk does not fit a slot`);
    return Buffer.from(this.memory, slotOffset(slot, position), length);
  }

  /** Waits for a free slot; every slot acquired must be released. */
  acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Gives a slot back (to the longest waiter first). */
  release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  /** Checks (and reads, writes) the chunk in `slot` as `job` says, on a checking thread when one is ready. */
  check(slot: number, job: Omit<ChunkJob, 'offset'>): Promise<ChunkJobVerdict> {
    if (job.length > SLOT_BYTES) return Promise.reject(new Error(`BUG: a ${job.length}-byte chunk does not fit a slot`));
    const full: ChunkJob = { ...job, offset: slotOffset(slot, job.writeTo?.position ?? 0) };
    // A small chunk costs less to check here than the message to a thread and back (a
    // profile of 10,000 files of 4-64 KiB: 1.8 s in postMessage alone).
    if (job.length < SMALL_JOB_BYTES) return this.runHere(full);
    this.startThreads();
    let target: CheckingThread | undefined;
    for (const t of this.threads) {
      if (!t.ready || t.dead) continue;
      if (!target || t.inFlight.size < target.inFlight.size) target = t;
    }
    if (!target) return this.runHere(full);
    const id = this.nextId++;
    const thread = target;
    return new Promise((resolve, reject) => {
      // Referenced while it has work: an awaited answer must keep the process alive.
      if (thread.inFlight.size === 0) thread.worker.ref();
      thread.inFlight.set(id, { job: full, resolve, reject });
      thread.worker.postMessage({ id, job: full } satisfies ChunkCheckRequest);
    });
  }

  /** Ends the threads (jobs still in flight are run here first). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate().catch(() => undefined)));
  }

  private runHere(job: ChunkJob): Promise<ChunkJobVerdict> {
    try {
      return Promise.resolve(runChunkJob(job, this.bytes));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private startThreads(): void {
    if (this.threads.length >= this.threadCount || this.closed) return;
    const url = pathToFileURL(builtFile('store/chunk-check-worker.js'));
    while (this.threads.length < this.threadCount) {
      // execArgv: [] — inherited flags (--input-type, loaders) can stop a worker loading.
      const worker = new Worker(url, { workerData: { memory: this.memory } satisfies ChunkCheckWorkerData, execArgv: [], stdout: false, stderr: false });
      worker.unref();
      const thread: CheckingThread = { worker, ready: false, dead: false, inFlight: new Map() };
      worker.on('message', (m: 'ready' | ChunkCheckAnswer) => {
        if (m === 'ready') {
          thread.ready = true;
          return;
        }
        const pending = thread.inFlight.get(m.id);
        if (!pending) return;
        thread.inFlight.delete(m.id);
        if (thread.inFlight.size === 0) thread.worker.unref();
        if (m.error) pending.reject(reviveWorkerError(m.error));
        else pending.resolve(m.verdict ?? 'digest');
      });
      // A thread that fails or exits gives its unanswered jobs back: they run here.
      const lost = () => {
        if (thread.dead) return;
        thread.dead = true;
        for (const p of thread.inFlight.values()) this.runHere(p.job).then(p.resolve, p.reject);
        thread.inFlight.clear();
      };
      worker.on('error', lost);
      worker.on('exit', lost);
      this.threads.push(thread);
    }
  }
}

/** Where in the memory a chunk for file offset `position` sits in slot `slot` (see SLOT_STRIDE). */
function slotOffset(slot: number, position: number): number {
  return slot * SLOT_STRIDE + (position % DIRECT_ALIGN);
}

/** Checking threads for a download of `bytes`: none for small ones (starting threads costs more than it saves). */
export function checkingThreads(bytes: number, env: NodeJS.ProcessEnv = process.env): number {
  if (bytes < 16 * 1024 * 1024) return 0;
  return Math.min(hashThreads(env), availableParallelism(), 4);
}
