import { fsyncSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { hashFileSingleThread } from './hash-file.js';
import {
  WORKER_GONE,
  WORKER_READY,
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
 * Its state word tells the main thread when it is ready and when it is gone.
 */
const { memory, control, index, port } = workerData as HashWorkerData;
const bytes = new Uint8Array(memory.buffer);

function run(job: HashJob): HashJobResult {
  if (job.kind !== 'file') return runMemoryJob(job, bytes);
  const copyTo = job.copyToFd >= 0 ? job.copyToFd : undefined;
  const file = hashFileSingleThread(job.path, copyTo);
  if (copyTo !== undefined) fsyncSync(copyTo);
  return { id: job.id, file };
}

function signal(): void {
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
}

parentPort?.on('message', (job: HashJob) => {
  let result: HashJobResult;
  try {
    result = run(job);
  } catch (err) {
    result = { id: job.id, error: serializeError(err) };
  }
  port.postMessage(result);
  signal();
});
process.on('exit', () => {
  Atomics.store(control, 1 + index, WORKER_GONE);
  signal();
});
Atomics.store(control, 1 + index, WORKER_READY);
signal();
