import { close, fsync, open } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { hashFileSingleThread } from './hash-file.js';
import {
  WORKER_GONE,
  WORKER_READY,
  isFolderSyncRefusal,
  runMemoryJob,
  serializeError,
  type HashJob,
  type HashJobResult,
  type HashWorkerData,
} from './parallel-hash.js';

/**
 * A thread of the hashing pool (parallel-hash.ts). It runs one job at a time from its
 * message queue, answers on its own port, then bumps the shared counter so the blocked
 * main thread wakes up:
 *   chunk: sha256 over byte ranges of the shared memory
 *   read:  reads a file range into the shared memory
 *   write: writes a range of the shared memory to a file at a position (O_DIRECT when given)
 *   file:  hashes a whole file on this thread, copying it into a temp file (fsynced)
 *   fsync: fsyncs a file or folder by path
 * fsyncs run asynchronously on libuv's thread pool and the answer is posted when they end,
 * so this thread hashes the next file meanwhile and many fsyncs are in flight together.
 * Its state word tells the main thread when it is ready and when it is gone.
 */
const { memory, control, index, port } = workerData as HashWorkerData;
const bytes = new Uint8Array(memory.buffer);

/** Runs a job; `done` gets its result (at once, or when its fsync has finished). */
function run(job: HashJob, done: (r: HashJobResult) => void): void {
  if (job.kind === 'fsync') {
    syncPath(job.path, (err) => done(err ? { id: job.id, error: serializeError(err) } : { id: job.id }));
    return;
  }
  if (job.kind !== 'file') {
    done(runMemoryJob(job, bytes));
    return;
  }
  const copyTo = job.copyToFd >= 0 ? job.copyToFd : undefined;
  const file = hashFileSingleThread(job.path, copyTo);
  if (copyTo === undefined) {
    done({ id: job.id, file });
    return;
  }
  fsync(copyTo, (err) => done(err ? { id: job.id, error: serializeError(err) } : { id: job.id, file }));
}

/** fsyncPath (parallel-hash.ts) on the thread pool. */
function syncPath(path: string, cb: (err: Error | null) => void): void {
  open(path, 'r', (err, fd) => {
    if (err) {
      cb(isFolderSyncRefusal(err) ? null : err);
      return;
    }
    fsync(fd, (syncErr) => close(fd, () => cb(syncErr && !isFolderSyncRefusal(syncErr) ? syncErr : null)));
  });
}

function signal(): void {
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
}

function answer(result: HashJobResult): void {
  port.postMessage(result);
  signal();
}

parentPort?.on('message', (job: HashJob) => {
  try {
    run(job, answer);
  } catch (err) {
    answer({ id: job.id, error: serializeError(err) });
  }
});
process.on('exit', () => {
  Atomics.store(control, 1 + index, WORKER_GONE);
  signal();
});
Atomics.store(control, 1 + index, WORKER_READY);
signal();
