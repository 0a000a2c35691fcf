/**
 * The barrier-driven interleaving of a push and a remote gc (docs/design.md §16), shared by
 * the directory and RGW test files. Each case starts from a remote where v1 (a multi-chunk
 * file F) and v2 are pushed, a gc operator whose policy (keep_last 1) lets v1 go, and a
 * pusher that commits v3 holding F again — so the chunks the gc may delete are exactly the
 * ones the push relies on (and remembers as uploaded). Then:
 *
 * - for every step of push, the push stops there while a whole gc (grace 0s) runs;
 * - for every step of gc, the gc stops there while a whole push runs (a gc stopped in its
 *   sweep outlives its lease: the push waits for the lease, then checks and repairs).
 *
 * After each case `verify --remote` is clean and every acknowledged version pulls.
 */
import { describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { runCli, runCliAsync, tempRepo } from '../helpers/temp-repo.js';
import { addOrigin, assertRemoteIntact, bytes, commitFiles, gcOperator, removedNumbers, type Made, type RemoteTarget } from './remote-gc-helpers.js';

const PUSH_STEPS = ['push-planned', 'push-chunks', 'push-fence', 'push-claimed'];
const GC_STEPS = ['gc-remote-mark', 'gc-remote-before-sweep', 'gc-remote-sweep', 'gc-remote-delete', 'gc-remote-swept'];

interface Scene {
  t: RemoteTarget;
  pusher: string;
  gc: string;
  made: Map<number, Record<string, Buffer>>;
}

function scene(t: RemoteTarget): Scene {
  const pusher = tempRepo();
  addOrigin(pusher, t);
  const f = bytes(2_500_000, 41); // a few chunks: a file list too
  const made = new Map<number, Record<string, Buffer>>();
  made.set(1, commitFiles(pusher, 'm', { 'f.bin': f }));
  made.set(2, commitFiles(pusher, 'm', { 'g.bin': bytes(200_000, 42) }));
  const p = runCli(pusher, ['push'], { env: t.env });
  expect(p.code, p.stderr).toBe(0);
  made.set(3, commitFiles(pusher, 'm', { 'f.bin': f, 'h.bin': bytes(1000, 43) }));
  return { t, pusher, gc: gcOperator(t, 'm', { keep_last: 1 }), made };
}

/** Every version pushed with exit 0 that no gc removed. */
function acknowledged(s: Scene): Made[] {
  const clone = tempRepo();
  addOrigin(clone, s.t);
  expect(runCli(clone, ['fetch'], { env: s.t.env }).code).toBe(0);
  const removed = new Set(removedNumbers(clone, s.t, 'm'));
  // v1 is always let go (keep_last 1 with v2 or v3 newer); v2 goes when v3 was numbered first.
  expect(removed.has(1)).toBe(true);
  return [2, 3].filter((n) => !removed.has(n)).map((n) => ({ ref: `m@v${n}`, files: s.made.get(n)! }));
}

/** Registers the schedule for one backend; `open` gives a fresh remote (and how to dispose of it). */
export function defineGcSchedule(name: string, open: () => Promise<{ target: RemoteTarget; done: () => Promise<void> }>, opts: { skip?: string } = {}): void {
  describe.skipIf(opts.skip !== undefined)(`push and remote gc interleaved at every step (${name})`, () => {
    for (const step of PUSH_STEPS) {
      it(`push stopped at ${step} while a whole gc runs`, async () => {
        const { target, done } = await open();
        try {
          const s = scene(target);
          const b = new Barriers();
          b.arm(step);
          const push = runCliAsync(s.pusher, ['push', '--json'], { env: { ...target.env, ...b.env }, timeoutMs: 120_000 });
          await b.reached(step, 60_000);
          const g = runCli(s.gc, ['gc', '--remote', 'origin', '--grace', '0s', '--json'], { env: target.env });
          expect(g.code, g.stderr).toBe(0);
          b.release(step);
          const p = await push;
          expect(p.code, p.stderr).toBe(0);
          const acked = acknowledged(s);
          expect(acked.map((m) => m.ref)).toContain('m@v3');
          assertRemoteIntact(target, 'm', acked);
        } finally {
          await done();
        }
      }, 240_000);
    }
    for (const step of GC_STEPS) {
      it(`gc stopped at ${step} while a whole push runs`, async () => {
        const { target, done } = await open();
        try {
          const s = scene(target);
          const b = new Barriers();
          b.arm(step);
          const gc = runCliAsync(s.gc, ['gc', '--remote', 'origin', '--grace', '0s', '--json'], { env: { ...target.env, ...b.env }, timeoutMs: 120_000 });
          await b.reached(step, 60_000);
          // A second gc is refused while this one holds the state.
          const second = runCli(s.gc, ['gc', '--remote', 'origin', '--grace', '0s', '--json'], { env: target.env });
          expect(second.code, second.stderr).toBe(4);
          const p = runCli(s.pusher, ['push', '--json'], { env: target.env });
          expect(p.code, p.stderr).toBe(0);
          b.release(step);
          const g = await gc;
          // A gc stopped past its lease gives up (exit 4) rather than delete on a stale view.
          expect([0, 4], g.stderr).toContain(g.code);
          const acked = acknowledged(s);
          expect(acked.map((m) => m.ref)).toContain('m@v3');
          assertRemoteIntact(target, 'm', acked);
        } finally {
          await done();
        }
      }, 240_000);
    }
  });
}
