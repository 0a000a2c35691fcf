import { isErrnoException } from '../errors.js';

/**
 * Whether a process of this host with `pid` is running: signal 0 checks without signalling
 * (EPERM: it runs, as another user). What a dead process left behind (partial files, gc
 * claims, a lock's owner record) is judged by this (docs/design.md §9).
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrnoException(err, 'EPERM');
  }
}
