import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, fsyncSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ModelctlError, isErrnoException, type ExitCodeValue } from '../errors.js';
import { builtFile } from '../package-paths.js';
import { DIRECT_ALIGN, openDirect } from './direct-io.js';
import { fileDigestFromChunks } from './file-digest.js';
import { writeSparseAt } from './positional-io.js';
import { ScanEngine, WASM_DATA_OFFSET, WasmChunker, createScannerMemory } from './gear-wasm.js';
import type { ChunkRef, HashedFile } from './hash-file.js';

/**
 * Hashing across cores with worker_threads, behind a synchronous API.
 *
 * One big file (hashFdPipelined): this thread reads the file into a ring of slots in a
 * shared WebAssembly memory, one slot at a time, and runs the boundary scan over each slot in
 * place, the one step that cannot be split; a writer thread writes each slot's store copy
 * once it is read (with O_DIRECT when the file system allows: the copy then costs neither CPU
 * nor page cache, and the thread waits on the disk, not the CPU); each chunk found goes to a
 * hash worker as byte ranges of that memory (nothing is copied) and its sha256 comes back.
 * Scanning, hashing and writing of different slots overlap, and when this thread would wait
 * for a free slot it hashes a queued chunk job itself. The scan keeps this thread busy, so
 * the pipeline starts one hash worker fewer than there are threads (pipelineHashers): on 2
 * cores, one hash worker and the writer. Each worker is a V8 isolate costing ~25-50 ms of CPU
 * to start; a 256 MiB commit used to start four (a second hasher and a reader thread, whose
 * reads then waited in its queue: README, Performance).
 *
 * Many files (hashFilesParallel): each worker takes whole files. A stored file's copy is
 * fsynced by the worker asynchronously (libuv's thread pool) while it hashes the next one, so
 * many fsyncs are in flight at once: the file system commits them together (ext4's journal
 * takes one commit for all), where one after the other each costs a whole commit (~4 ms here).
 * fsyncPaths does the same for the folders a batch of renames touched.
 *
 * Why synchronous: hashFileSync and hashWorkingFiles are synchronous and called from many
 * places (commit, status, verify, checkout, pull). This thread blocks in Atomics.wait on a
 * shared counter that workers bump after posting a result, and takes results with
 * receiveMessageOnPort, so callers keep their simple API and still get every core.
 *
 * Never stuck: jobs wait in a queue here and are posted only to workers that have started;
 * while none has (start-up, or a worker that cannot start), and when a worker dies, this
 * thread runs the jobs itself. Every job is idempotent (hash ranges, read or write bytes at
 * a position, hash a file and write its copy at positions from 0, fsync a path), so
 * re-running one is safe.
 *
 * Workers start on first use only (a file of PARALLEL_FILE_BYTES or more, or more than
 * PARALLEL_TOTAL_BYTES of files), as many as that use needs, are unref'd (they never keep
 * the process alive) and are reused for the rest of the process. MODELCTL_THREADS=1 turns
 * all of this off.
 */

/** A file this big is hashed by the pipeline (worker start-up then costs < 10%). */
export const PARALLEL_FILE_BYTES = 32 * 1024 * 1024;
/** Smaller files are spread over workers when they add up to this much. */
export const PARALLEL_TOTAL_BYTES = 64 * 1024 * 1024;

/** Bytes per slot: a chunk (≤ 4 MiB) spans at most two slots; O_DIRECT needs aligned sizes. */
const SLOT_BYTES = 4 * 1024 * 1024;
/** Slots in the ring: enough for reading, scanning, hashing and writing to overlap. */
const SLOT_COUNT = 6;
/** Chunk jobs posted to one hash worker at a time: it always has the next one queued. */
const HASH_JOBS_PER_WORKER = 3;
/** Whole-file jobs in flight per hash worker when nothing is stored (each is pure CPU and reads). */
const FILE_JOBS_PER_WORKER = 2;
/**
 * Jobs in flight per worker that mostly wait on fsync (storing files, fsyncPaths): enough
 * for the file system to commit many at once; each holds one open temp file.
 */
const SYNC_JOBS_PER_WORKER = 16;
/** fsyncPaths starts the workers for this many paths or more (fewer are synced on this thread). */
const PARALLEL_SYNC_PATHS = 8;
/** How often a blocked wait re-checks worker health. */
const WAIT_SLICE_MS = 100;
/** A pool that shows no progress for this long is considered lost. */
const STALL_LIMIT_MS = 10 * 60 * 1000;

/**
 * Threads that may hash: MODELCTL_THREADS when set (0 or 1 = this thread only), else the
 * number of CPUs, at most 8 (beyond that the single-threaded boundary scan is the limit).
 */
export function hashThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MODELCTL_THREADS;
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 0) return Math.min(n, 64);
  }
  return Math.min(availableParallelism(), 8);
}

/** Hash workers the big-file pipeline uses: one per thread but this one, which scans. */
export function pipelineHashers(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1, hashThreads(env) - 1);
}

/** Jobs on the shared memory (offsets are absolute offsets into it). */
export type MemoryJob =
  /**
   * sha256 of several chunks (one message per slot's worth: fewer messages than chunks);
   * `pieces` holds, per chunk, its piece count then (offset, length) per piece.
   */
  | { kind: 'chunks'; id: number; pieces: number[] }
  /** Writes memory [offset, offset + length) to `fd` at `position` (through `directFd`, O_DIRECT, when ≥ 0). */
  | { kind: 'write'; id: number; offset: number; length: number; position: number; fd: number; directFd: number };
/** A whole file, optionally copied (at positions from 0) into `copyToFd` and fsynced. */
export interface FileJob {
  kind: 'file';
  id: number;
  path: string;
  copyToFd: number;
}
/** fsync of a file or folder by path (a folder that refuses fsync is not an error: see fsyncPath). */
export interface SyncJob {
  kind: 'fsync';
  id: number;
  path: string;
}
/** A job for a worker. */
export type HashJob = MemoryJob | FileJob | SyncJob;

/** A serialised error from a worker. */
export interface WorkerError {
  /** errno code (ENOENT, …) when the failure was a system call. */
  errno?: string;
  syscall?: string;
  path?: string;
  /** ModelctlError code, exit code and hint otherwise. */
  code?: string;
  exitCode?: number;
  hint?: string;
  message: string;
}

/** What a worker posts back for a job. */
export interface HashJobResult {
  id: number;
  /** chunks: the raw sha256 of each chunk, concatenated. */
  digests?: Uint8Array;
  /** write: false when O_DIRECT was refused and the buffered fd was used. */
  direct?: boolean;
  /** file: the hashed file. */
  file?: HashedFile & { mtimeMs: number };
  error?: WorkerError;
}

/** What a worker gets at start. `control[0]` counts results; `control[1 + index]` is its state. */
export interface HashWorkerData {
  memory: { buffer: SharedArrayBuffer };
  control: Int32Array;
  index: number;
  port: MessagePort;
}

/** Worker states in `control[1 + index]`. */
export const WORKER_STARTING = 0;
export const WORKER_READY = 1;
export const WORKER_GONE = 2;

/**
 * Runs a job on the shared memory (on a worker, or on this thread when no worker can).
 * Throws on I/O errors.
 */
export function runMemoryJob(job: MemoryJob, bytes: Uint8Array): HashJobResult {
  if (job.kind === 'chunks') {
    const digests: Buffer[] = [];
    for (let i = 0; i < job.pieces.length; ) {
      const h = createHash('sha256');
      const count = job.pieces[i++];
      for (let p = 0; p < count; p++, i += 2) h.update(bytes.subarray(job.pieces[i], job.pieces[i] + job.pieces[i + 1]));
      digests.push(h.digest());
    }
    return { id: job.id, digests: new Uint8Array(Buffer.concat(digests)) };
  }
  const view = bytes.subarray(job.offset, job.offset + job.length);
  // Store copies are fresh files: runs of zeros stay holes (a sparse model stays sparse).
  if (job.directFd >= 0) {
    try {
      writeSparseAt(job.directFd, view, job.position);
      return { id: job.id, direct: true };
    } catch (err) {
      // The file system or device refused the alignment: fall back to the page cache.
      if (!isErrnoException(err, 'EINVAL')) throw err;
      writeSparseAt(job.fd, view, job.position);
      return { id: job.id, direct: false };
    }
  }
  writeSparseAt(job.fd, view, job.position);
  return { id: job.id };
}


/** A thrown value as a WorkerError (errno errors keep their code so fsError can map them). */
export function serializeError(err: unknown): WorkerError {
  const cause = err instanceof ModelctlError && isErrnoException(err.cause) ? err.cause : err;
  if (isErrnoException(cause)) return { errno: cause.code, syscall: cause.syscall, path: cause.path, message: cause.message };
  if (err instanceof ModelctlError) return { code: err.code, exitCode: err.exitCode, hint: err.hint, message: err.message };
  return { message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

/** Turns a worker's serialised error back into an Error callers can map (fsError, instanceof ModelctlError). */
export function reviveWorkerError(e: WorkerError): Error {
  if (e.errno) {
    const err = new Error(e.message) as NodeJS.ErrnoException;
    err.code = e.errno;
    if (e.syscall) err.syscall = e.syscall;
    if (e.path) err.path = e.path;
    return err;
  }
  if (e.code) return new ModelctlError(e.code, e.message, { exitCode: e.exitCode as ExitCodeValue | undefined, hint: e.hint });
  return new Error(e.message);
}

/**
 * fsync a file or folder by path, so what was written or renamed in it survives a power
 * loss. A file system that refuses fsync on folders (EINVAL, EISDIR, EBADF, EPERM on some)
 * is not an error there: the rename is still atomic. Other errors are thrown.
 */
export function fsyncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (err) {
    if (!isFolderSyncRefusal(err)) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The errors a file system gives when it does not fsync folders. */
export function isFolderSyncRefusal(err: unknown): boolean {
  return isErrnoException(err, 'EINVAL') || isErrnoException(err, 'EISDIR') || isErrnoException(err, 'EBADF') || isErrnoException(err, 'EPERM') || isErrnoException(err, 'ENOTSUP');
}

interface PoolWorker {
  worker: Worker;
  port: MessagePort;
  index: number;
  /** Jobs posted to it and not answered yet. */
  inFlight: Map<number, HashJob>;
  dead: boolean;
}

/** Most jobs of this kind a worker may have in flight: more for those that wait on fsync or the disk. */
function jobLimit(job: HashJob): number {
  if (job.kind === 'fsync' || (job.kind === 'file' && job.copyToFd >= 0)) return SYNC_JOBS_PER_WORKER;
  if (job.kind === 'file') return FILE_JOBS_PER_WORKER;
  return job.kind === 'write' ? SLOT_COUNT : HASH_JOBS_PER_WORKER;
}

type NewJob = HashJob extends infer J ? (J extends unknown ? Omit<J, 'id'> : never) : never;

/** The process's worker pool with its shared slot memory. */
class HashPool {
  readonly engine: ScanEngine;
  private readonly bytes: Uint8Array;
  private readonly control: Int32Array;
  /** Hash workers started so far (ensureWorkers): chunk, file and fsync jobs. */
  private readonly hashers: PoolWorker[] = [];
  /**
   * The store writer: writes block on the disk (an O_DIRECT write returns when the device
   * has the bytes), so they get a thread of their own instead of waiting behind hashes.
   * Started with the first write (hashing alone — status, verify, pull — never needs it).
   */
  private writerThread: PoolWorker | undefined;
  private readonly startWorker: () => PoolWorker;
  private readonly maxWorkers: number;
  private readonly queue: HashJob[] = [];
  private readonly done: HashJobResult[] = [];
  private nextId = 1;
  /** Runs a file job on this thread when no worker can (set by hashFilesParallel). */
  fileJobHere: ((job: FileJob) => HashJobResult) | undefined;

  constructor(maxWorkers: number) {
    const memory = createScannerMemory(SLOT_BYTES * SLOT_COUNT, true);
    this.engine = new ScanEngine(memory);
    this.bytes = new Uint8Array(memory.buffer);
    this.maxWorkers = maxWorkers;
    // control[0], then a state word per hash worker and one for the writer.
    this.control = new Int32Array(new SharedArrayBuffer(4 * (2 + maxWorkers)));
    const url = workerUrl();
    let nextIndex = 0;
    const start = (): PoolWorker => {
      const index = nextIndex++;
      const { port1, port2 } = new MessageChannel();
      const data: HashWorkerData = { memory: memory as HashWorkerData['memory'], control: this.control, index, port: port2 };
      // execArgv: [] — the worker needs no flags, and inherited ones can stop it loading
      // (--input-type is valid only with -e; loaders are not needed for built JavaScript).
      const worker = new Worker(url, { workerData: data, transferList: [port2], execArgv: [], stdout: false, stderr: false });
      worker.unref();
      port1.unref();
      // Never left unhandled: a worker that fails is noticed through its state word and
      // its jobs run on this thread.
      worker.on('error', () => undefined);
      return { worker, port: port1, index, inFlight: new Map(), dead: false };
    };
    this.startWorker = start;
  }

  /** Starts workers until there are `n` (at most the pool's maximum); they start in the background. */
  ensureWorkers(n: number): void {
    while (this.hashers.length < Math.min(n, this.maxWorkers)) this.hashers.push(this.startWorker());
  }

  /** Hash workers started. */
  get size(): number {
    return this.hashers.length;
  }

  /** Whether the writer thread was started. */
  get hasWriter(): boolean {
    return this.writerThread !== undefined;
  }

  /** Reads up to `length` bytes of `fd` at `position` into the memory at `offset` (fewer only at the end of the file). */
  read(fd: number, offset: number, length: number, position: number): number {
    let n = 0;
    while (n < length) {
      const got = readSync(fd, this.bytes, offset + n, length - n, position + n);
      if (got === 0) break;
      n += got;
    }
    return n;
  }

  /** Absolute offset of slot k in the shared memory. */
  slotOffset(k: number): number {
    return WASM_DATA_OFFSET + k * SLOT_BYTES;
  }

  /** Queues a job (its id is assigned here) and posts what workers can take; returns the id. */
  submit(job: NewJob): number {
    const id = this.nextId++;
    this.queue.push({ ...job, id } as HashJob);
    this.dispatch();
    return id;
  }

  /** Jobs submitted and not yet returned by waitAny. */
  get outstanding(): number {
    let n = this.queue.length + this.done.length;
    for (const w of this.all()) n += w.inFlight.size;
    return n;
  }

  /** Waits for every job and drops the results (cleanup after a failure). */
  drain(): void {
    while (this.outstanding > 0) this.waitAny();
  }

  /** Blocks until at least one result is in, and returns all that are. */
  waitAny(): HashJobResult[] {
    let idleMs = 0;
    for (;;) {
      // Read the counter before draining: a result posted after the drain then bumps it
      // past `seen`, and Atomics.wait returns at once instead of missing the wake-up.
      const seen = Atomics.load(this.control, 0);
      this.collect();
      if (this.done.length) return this.done.splice(0);
      if (this.outstanding === 0) throw new Error('BUG: waiting for hash results with no job outstanding');
      this.reapDeadWorkers();
      this.dispatch();
      // Jobs no worker can take now (none started yet, or all gone): run one here. And
      // rather than wait idle, this thread hashes a chunk job the workers have no room for
      // (pure CPU: the workers are then the slower side, and this thread is free).
      const stuck = this.queue.findIndex((j) => !this.canTakeLater(j));
      const job = stuck >= 0 ? this.queue.splice(stuck, 1)[0] : this.takeQueued('chunks');
      if (job) {
        this.done.push(this.runHere(job));
        continue;
      }
      if (Atomics.wait(this.control, 0, seen, WAIT_SLICE_MS) === 'timed-out') {
        idleMs += WAIT_SLICE_MS;
        if (idleMs >= STALL_LIMIT_MS) {
          throw new ModelctlError('HASH_WORKER_LOST', 'a hashing thread stopped responding', {
            hint: 'run the command again; MODELCTL_THREADS=1 hashes on one thread only',
          });
        }
      } else {
        idleMs = 0;
      }
    }
  }

  /** Removes and returns the first queued job of `kind`, if any. */
  private takeQueued(kind: HashJob['kind']): HashJob | undefined {
    const i = this.queue.findIndex((j) => j.kind === kind);
    return i < 0 ? undefined : this.queue.splice(i, 1)[0];
  }

  private all(): PoolWorker[] {
    return this.writerThread ? [...this.hashers, this.writerThread] : this.hashers;
  }

  private state(w: PoolWorker): number {
    return Atomics.load(this.control, 1 + w.index);
  }

  /** The workers that may run `job`: the writer, or the hash workers. */
  private candidates(job: HashJob): PoolWorker[] {
    if (job.kind !== 'write') return this.hashers;
    this.writerThread ??= this.startWorker();
    return [this.writerThread];
  }

  /** True when some live worker for this job has started and will take it once it has room. */
  private canTakeLater(job: HashJob): boolean {
    return this.candidates(job).some((w) => !w.dead && this.state(w) === WORKER_READY);
  }

  /** Posts queued jobs, in order, to started workers with room (least busy first). */
  private dispatch(): void {
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i];
      let target: PoolWorker | undefined;
      for (const w of this.candidates(job)) {
        if (w.dead || w.inFlight.size >= jobLimit(job) || this.state(w) !== WORKER_READY) continue;
        if (!target || w.inFlight.size < target.inFlight.size) target = w;
      }
      if (!target) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      target.inFlight.set(job.id, job);
      target.worker.postMessage(job);
    }
  }

  private collect(): void {
    for (const w of this.all()) {
      for (let m = receiveMessageOnPort(w.port); m !== undefined; m = receiveMessageOnPort(w.port)) {
        const r = m.message as HashJobResult;
        if (w.inFlight.delete(r.id)) this.done.push(r);
      }
    }
  }

  /** A worker that exited gives its unanswered jobs back to the queue (they are idempotent). */
  private reapDeadWorkers(): void {
    for (const w of this.all()) {
      if (w.dead || this.state(w) !== WORKER_GONE) continue;
      this.collect(); // answers it posted before exiting still count
      w.dead = true;
      this.queue.unshift(...w.inFlight.values());
      w.inFlight.clear();
    }
  }

  private runHere(job: HashJob): HashJobResult {
    try {
      if (job.kind === 'fsync') {
        fsyncPath(job.path);
        return { id: job.id };
      }
      if (job.kind !== 'file') return runMemoryJob(job, this.bytes);
      if (!this.fileJobHere) throw new Error('BUG: no local runner for file jobs');
      return this.fileJobHere(job);
    } catch (err) {
      return { id: job.id, error: serializeError(err) };
    }
  }
}

let pool: HashPool | undefined;

/** Threads the hashing pool has started (hash workers and the writer); for tests. */
export function startedHashThreads(): number {
  return pool ? pool.size + (pool.hasWriter ? 1 : 0) : 0;
}

/** The process's pool, made on first use, with at least `workers` hash workers started (up to hashThreads()). */
function getPool(workers: number): HashPool {
  pool ??= new HashPool(Math.max(1, hashThreads()));
  pool.ensureWorkers(workers);
  return pool;
}

/**
 * dist/store/hash-worker.js, an entry point of the build (every *-worker.ts is one), also
 * when this module runs from the sources (tests) or from a bundle chunk in dist/chunks/.
 */
function workerUrl(): URL {
  return pathToFileURL(builtFile('store/hash-worker.js'));
}

/**
 * Chunks and hashes an open file from offset 0 to its end in one read pass, on every core
 * (see the module comment); with `copyToFd` its bytes are also written there at the same
 * offsets. Same result as the single-threaded ChunkHasher. Throws the first I/O error,
 * after every job touching the descriptors has finished.
 */
export function hashFdPipelined(fd: number, copyToFd?: number): HashedFile {
  const pool = getPool(pipelineHashers());
  const directFd = copyToFd === undefined ? -1 : openDirect(copyToFd);
  let useDirect = directFd >= 0;
  try {
    const chunker = new WasmChunker(pool.engine);
    const busy = new Int32Array(SLOT_COUNT); // jobs still using each slot (its read, chunks overlapping it)
    const jobSlots = new Map<number, number[]>();
    const firstChunkOfJob = new Map<number, number>();
    const chunks: ChunkRef[] = [];
    let failure: WorkerError | undefined;

    const settle = (results: HashJobResult[]) => {
      for (const r of results) {
        for (const k of jobSlots.get(r.id) ?? []) busy[k]--;
        jobSlots.delete(r.id);
        if (r.error) failure ??= r.error;
        if (r.direct === false) useDirect = false;
        const first = firstChunkOfJob.get(r.id);
        if (first !== undefined && r.digests) {
          for (let i = 0; i * 32 < r.digests.length; i++) chunks[first + i].digest = Buffer.from(r.digests.buffer, r.digests.byteOffset + i * 32, 32).toString('hex');
        }
        firstChunkOfJob.delete(r.id);
      }
    };

    // Chunks found in one slot go to a hasher in one job.
    let batch: number[] = [];
    let batchSlots: number[] = [];
    let batchFirst = 0;
    const addChunk = (start: number, end: number) => {
      if (batch.length === 0) batchFirst = chunks.length;
      const at = batch.length;
      batch.push(0);
      for (let pos = start; pos < end; ) {
        const k = Math.floor(pos / SLOT_BYTES) % SLOT_COUNT;
        const inSlot = pos % SLOT_BYTES;
        const n = Math.min(end - pos, SLOT_BYTES - inSlot);
        batch.push(pool.slotOffset(k) + inSlot, n);
        batch[at]++;
        batchSlots.push(k);
        busy[k]++;
        pos += n;
      }
      chunks.push({ digest: '', offset: start, length: end - start });
    };
    const postBatch = () => {
      if (batch.length === 0) return;
      const id = pool.submit({ kind: 'chunks', pieces: batch });
      jobSlots.set(id, batchSlots);
      firstChunkOfJob.set(id, batchFirst);
      batch = [];
      batchSlots = [];
    };

    let position = 0;
    let chunkStart = 0;
    const cuts: number[] = [];
    for (let block = 0; !failure; block++) {
      // This thread reads each block into its slot right before scanning it (a copy out of
      // the page cache, ~0.2 ms per MiB): a read handed to a worker waited behind that
      // worker's hashes, and the scan waited for it. The slot must be free: the chunks of
      // the block it held hashed and its copy written. (The open chunk, ≤ 4 MiB, lies in
      // this block and the one before, whose slot is another.)
      const k = block % SLOT_COUNT;
      while (!failure && busy[k] > 0) settle(pool.waitAny());
      if (failure) break;
      const base = pool.slotOffset(k);
      const n = pool.read(fd, base, SLOT_BYTES, position);
      if (n === 0) break;
      if (copyToFd !== undefined) {
        const direct = useDirect && n % DIRECT_ALIGN === 0 ? directFd : -1;
        const id = pool.submit({ kind: 'write', offset: base, length: n, position, fd: copyToFd, directFd: direct });
        jobSlots.set(id, [k]);
        busy[k]++;
      }
      cuts.length = 0;
      chunker.scanInPlace(base, base + n, cuts);
      for (const c of cuts) {
        const end = position + (c - base);
        addChunk(chunkStart, end);
        chunkStart = end;
      }
      postBatch();
      position += n;
      if (n < SLOT_BYTES) break;
    }
    if (!failure && position > chunkStart) addChunk(chunkStart, position);
    postBatch();
    while (pool.outstanding > 0) settle(pool.waitAny());
    if (failure) throw reviveWorkerError(failure);
    // The copy's length, holes at the end included (writes skip zero blocks).
    if (copyToFd !== undefined) ftruncateSync(copyToFd, position);
    return { size: position, digest: fileDigestFromChunks(chunks.map((c) => c.digest)), chunks };
  } finally {
    // On a throw, jobs may still be reading or writing the descriptors: wait for them
    // before anyone closes them (a reused fd number must never be written).
    pool.drain();
    if (directFd >= 0) closeSync(directFd);
  }
}

/** One file for hashFilesParallel: its path and, to store it, how to open the temp file to copy it into. */
export interface FileHashTask {
  path: string;
  /**
   * Opens the temp file the bytes are copied into (at positions from 0; the descriptor is
   * then fsynced and stays open), called when the file's job is posted: only the files in
   * flight have a temp file open.
   */
  openCopy?: () => number;
}

/**
 * Hashes whole files on the worker pool, several at a time; `onDone` gets each result (or
 * the error for that file) as it arrives, in completion order. `hashHere` is how this
 * thread hashes a file when no worker can (it must copy at positions from 0 into `copyToFd`
 * and fsync it, like a worker). Returns when all are done; if `onDone` throws, waits for the jobs in flight first.
 */
export function hashFilesParallel(
  tasks: readonly FileHashTask[],
  onDone: (index: number, result: (HashedFile & { mtimeMs: number }) | Error) => void,
  hashHere: (job: { path: string; copyToFd?: number }) => HashedFile & { mtimeMs: number },
): void {
  const pool = getPool(hashThreads());
  pool.fileJobHere = (job) => ({ id: job.id, file: hashHere({ path: job.path, copyToFd: job.copyToFd >= 0 ? job.copyToFd : undefined }) });
  const indexOfJob = new Map<number, number>();
  let next = 0;
  const inFlight = pool.size * (tasks.some((t) => t.openCopy !== undefined) ? SYNC_JOBS_PER_WORKER : FILE_JOBS_PER_WORKER);
  const fill = () => {
    while (next < tasks.length && pool.outstanding < inFlight) {
      const t = tasks[next];
      const id = pool.submit({ kind: 'file', path: t.path, copyToFd: t.openCopy ? t.openCopy() : -1 });
      indexOfJob.set(id, next++);
    }
  };
  try {
    fill();
    while (pool.outstanding > 0) {
      for (const r of pool.waitAny()) {
        const index = indexOfJob.get(r.id);
        if (index === undefined) continue;
        indexOfJob.delete(r.id);
        onDone(index, r.error ? reviveWorkerError(r.error) : (r.file as HashedFile & { mtimeMs: number }));
      }
      fill();
    }
  } finally {
    pool.drain(); // when onDone threw: no worker may still write to a descriptor the caller closes
    pool.fileJobHere = undefined;
  }
}

/**
 * fsyncs every path (files or folders; see fsyncPath), many at once on the worker pool when
 * there are several (the file system then commits them together), else on this thread.
 * Returns when all are on disk; throws the first error after every job has finished.
 */
export function fsyncPaths(paths: Iterable<string>): void {
  const list = [...new Set(paths)];
  if (list.length === 0) return;
  const few = list.length < PARALLEL_SYNC_PATHS;
  if (hashThreads() <= 1 || (few && !(pool && pool.size > 0))) {
    for (const p of list) fsyncPath(p);
    return;
  }
  // A few paths go to the workers already running (after a big file, its folder): starting
  // more for them would cost more than the fsyncs.
  const workers = getPool(few ? 1 : hashThreads());
  let failure: WorkerError | undefined;
  let next = 0;
  const fill = () => {
    while (next < list.length && workers.outstanding < workers.size * SYNC_JOBS_PER_WORKER) workers.submit({ kind: 'fsync', path: list[next++] });
  };
  try {
    fill();
    while (workers.outstanding > 0) {
      for (const r of workers.waitAny()) if (r.error) failure ??= r.error;
      fill();
    }
  } finally {
    workers.drain();
  }
  if (failure) throw reviveWorkerError(failure);
}
