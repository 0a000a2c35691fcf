import { parentPort, workerData } from 'node:worker_threads';
import { runChunkJob } from './chunk-check.js';
import type { ChunkCheckAnswer, ChunkCheckRequest, ChunkCheckWorkerData } from './chunk-check-pool.js';
import { WasmChunker } from './gear-wasm.js';
import { serializeError } from './parallel-hash.js';

/**
 * A checking thread of a download (chunk-check-pool.ts): for each chunk in the shared
 * memory it reads it first when asked, checks its sha256 and cut points, and writes it to
 * the partial file when both hold; then answers. Its boundary scans use its own scanner
 * memory (the shared slots are only read).
 */
const { memory } = workerData as ChunkCheckWorkerData;
const bytes = new Uint8Array(memory);
const chunker = new WasmChunker();

parentPort?.on('message', ({ id, job }: ChunkCheckRequest) => {
  let answer: ChunkCheckAnswer;
  try {
    answer = { id, verdict: runChunkJob(job, bytes, chunker) };
  } catch (err) {
    answer = { id, error: serializeError(err) };
  }
  parentPort?.postMessage(answer);
});
parentPort?.postMessage('ready');
