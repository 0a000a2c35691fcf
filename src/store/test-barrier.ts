import { existsSync, open, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Deterministic interleavings for the concurrency tests (docs/design.md §9): with
 * MODELCTL_TEST_BARRIER_DIR set and `<dir>/<name>.wait` present, the process stops at the
 * named point, writes `<dir>/<name>.reached` and waits until `<dir>/<name>.go` appears.
 * Without the variable this costs one environment lookup. Synchronous on purpose: some
 * points are inside a write transaction, where nothing may yield.
 */
export function barrier(name: string): void {
  const dir = process.env.MODELCTL_TEST_BARRIER_DIR;
  if (!dir || !existsSync(join(dir, `${name}.wait`))) return;
  announce(dir, name);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 120_000;
  while (!existsSync(join(dir, `${name}.go`)) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 10);
}

/**
 * For the interrupt tests: with `<dir>/<name>.wait` present, a thread of the I/O pool is
 * left blocked opening the FIFO `<dir>/<name>.fifo` (as a planted FIFO would once have
 * done) and this never resolves; `<dir>/<name>.reached` says so. Without the variable:
 * nothing, at once.
 */
export async function stuckIoBarrier(name: string): Promise<void> {
  const dir = process.env.MODELCTL_TEST_BARRIER_DIR;
  if (!dir || !existsSync(join(dir, `${name}.wait`))) return;
  open(join(dir, `${name}.fifo`), 'r', () => undefined);
  announce(dir, name);
  await new Promise<never>(() => undefined);
}

/**
 * Writes `<name>.reached` holding this pid, atomically: a test that sees the file must read
 * the pid, never an empty file (Number('') is 0, and kill(0) signals the test's own group).
 */
function announce(dir: string, name: string): void {
  const tmp = join(dir, `${name}.reached.${process.pid}.tmp`);
  writeFileSync(tmp, String(process.pid));
  renameSync(tmp, join(dir, `${name}.reached`));
}
