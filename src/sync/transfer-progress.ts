/** Progress of a push or pull, reported as it goes (the CLI draws a bar from it). */
export interface TransferProgress {
  phase: 'checking' | 'uploading' | 'downloading' | 'metadata';
  bytesDone: number;
  bytesTotal: number;
  itemsDone: number;
  itemsTotal: number;
}

export type ProgressListener = (p: TransferProgress) => void;

/** Default number of requests in flight. */
export const DEFAULT_JOBS = 8;

/** Validates a --jobs value. */
export function jobsOrDefault(jobs: number | undefined): number {
  if (jobs === undefined) return DEFAULT_JOBS;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw new RangeError('jobs must be 1..256');
  return jobs;
}
