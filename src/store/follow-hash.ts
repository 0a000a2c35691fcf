import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { builtFile } from '../package-paths.js';
import { hashFileSingleThread, type HashedFile } from './hash-file.js';
import { PARALLEL_FILE_BYTES, hashThreads, reviveWorkerError, type WorkerError } from './parallel-hash.js';

/** What a FollowHasher's thread gets at start. */
export interface FollowHashWorkerData {
  path: string;
}
/**
 * To the thread: the file now holds `written` bytes from 0 (and, with `complete`, no more
 * will come); or start again from byte 0; or `length` bytes at `offset` of `memory` are the
 * file's bytes from `position` on, to hash from there (answered with `took`).
 */
export type FollowHashMessage =
  | { kind: 'written' | 'complete'; written: number }
  | { kind: 'restart' }
  | { kind: 'bytes'; id: number; memory: SharedArrayBuffer; offset: number; length: number; position: number };
/** From the thread: the final answer, or that the bytes of message `took` are hashed (their memory may be reused). */
export interface FollowHashAnswer {
  hashed?: HashedFile;
  error?: WorkerError;
  took?: number;
}

/**
 * Chunks and hashes a file while another part of this process is still writing it (a
 * download), on a thread of its own, so the thread that reads the socket does nothing else
 * (docs/design.md §13, "Transfers"). The writer reports how far the file holds bytes
 * written without a gap (`written`); the thread reads up to there. Files under
 * PARALLEL_FILE_BYTES, MODELCTL_THREADS=1, and a thread that fails or cannot start are
 * hashed on this thread once the file is complete (one more read, from the page cache).
 * Same result either way: the file's chunk list and modelctl digest.
 */
export class FollowHasher {
  private worker: Worker | null = null;
  private answer: Promise<HashedFile> | null = null;
  private nextId = 1;
  /** Bytes handed over and not yet hashed: resolved when they are, or when the thread is gone. */
  private readonly taking = new Map<number, () => void>();
  /** After finish(): whether the thread gave the answer (false: this thread hashed the file). */
  hashedOnThread = false;

  constructor(
    private readonly path: string,
    size: number,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    if (size < PARALLEL_FILE_BYTES || hashThreads(env) <= 1) return;
    try {
      // execArgv: [] — inherited flags (--input-type, loaders) can stop a worker loading.
      const worker = new Worker(pathToFileURL(builtFile('store/follow-hash-worker.js')), { workerData: { path } satisfies FollowHashWorkerData, execArgv: [], stdout: false, stderr: false });
      this.worker = worker;
      this.answer = new Promise<HashedFile>((resolve, reject) => {
        worker.on('message', (m: FollowHashAnswer) => {
          if (m.took !== undefined) return this.took(m.took);
          this.releaseAll();
          if (m.hashed) resolve(m.hashed);
          else reject(reviveWorkerError(m.error!));
        });
        worker.once('error', (err) => {
          this.releaseAll();
          reject(err);
        });
        worker.once('exit', () => {
          this.releaseAll();
          reject(new Error('the hashing thread ended early'));
        });
      });
      this.answer.catch(() => undefined); // a thread that failed is replaced by hashing here
    } catch {
      this.worker = null;
    }
  }

  /** The file holds `bytes` bytes from 0 that will not change. */
  written(bytes: number): void {
    this.worker?.postMessage({ kind: 'written', written: bytes } satisfies FollowHashMessage);
  }

  /** True when the bytes can be handed over from memory (a thread hashes them), so the file need not be read back. */
  get followsMemory(): boolean {
    return this.worker !== null;
  }

  /**
   * Hands over the file's bytes from `position` as they sit in shared memory (the bytes that
   * are being written there), so the thread hashes them without reading the file back (which
   * an O_DIRECT write leaves out of the page cache). Resolves when the memory may be reused.
   * Bytes must come in file order, right after what the thread holds; anything else makes
   * the thread fail, and finish() then hashes the file itself. Without a thread, or for memory
   * that is not shared, nothing is handed over: the thread reads those bytes from the file.
   */
  hashBytes(view: Buffer, position: number): Promise<void> {
    const worker = this.worker;
    if (!worker || !(view.buffer instanceof SharedArrayBuffer)) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.taking.set(id, resolve);
      worker.postMessage({ kind: 'bytes', id, memory: view.buffer as SharedArrayBuffer, offset: view.byteOffset, length: view.length, position } satisfies FollowHashMessage);
    });
  }

  private took(id: number): void {
    const resolve = this.taking.get(id);
    this.taking.delete(id);
    resolve?.();
  }

  private releaseAll(): void {
    for (const resolve of this.taking.values()) resolve();
    this.taking.clear();
  }

  /** The file was truncated to 0: what was reported before no longer holds. */
  restart(): void {
    this.worker?.postMessage({ kind: 'restart' } satisfies FollowHashMessage);
  }

  /** The file is complete at `bytes`: its chunk list and digest. Throws ModelctlError when reading it here fails. */
  async finish(bytes: number): Promise<HashedFile> {
    if (this.worker && this.answer) {
      this.worker.postMessage({ kind: 'complete', written: bytes } satisfies FollowHashMessage);
      try {
        const hashed = await this.answer;
        this.hashedOnThread = true;
        return hashed;
      } catch {
        // the thread failed: hash here below
      } finally {
        this.close();
      }
    }
    const { size, digest, chunks } = hashFileSingleThread(this.path);
    return { size, digest, chunks };
  }

  /** Ends the thread (a download that failed). */
  close(): void {
    const w = this.worker;
    this.worker = null;
    this.releaseAll();
    void w?.terminate().catch(() => undefined);
  }
}
