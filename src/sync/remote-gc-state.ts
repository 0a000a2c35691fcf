import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { ConflictError, isErrnoException } from '../errors.js';
import { decodeDoc, encodeDoc, gcStateSchema, keys, type GcState } from '../core/remote-layout.js';
import { isPreconditionFailed, type Remote } from '../remote/remote.js';

/**
 * The remote gc state document `gc/state.json` (docs/design.md §16): read by every push
 * (its fence) and moved by remote gc with compare-and-swap. A sweeping gc holds a lease:
 * it renews the document every quarter of `lease_ms` and deletes nothing once its last
 * renewal began more than half a lease ago; a writer takes a sweep whose document has not
 * changed for a whole lease (by its own clock), or whose owner is a dead process on this
 * host, as ended.
 */

const HOST = hostname();

/** The lease of a sweeping gc (MODELCTL_REMOTE_GC_LEASE_MS, default 60 s). */
export function gcLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.MODELCTL_REMOTE_GC_LEASE_MS);
  return Number.isInteger(n) && n >= 200 ? n : 60_000;
}

/** The state as read, with the ETag to swap against (null: absent, which reads as epoch 0, idle). */
export interface GcStateRead {
  state: GcState;
  etag: string | null;
}

const IDLE0: GcState = { format: 1, epoch: 0, phase: 'idle', owner: null, lease_ms: 60_000, at: new Date(0).toISOString() };

/** Reads `gc/state.json` (an absent one is epoch 0, idle). */
export async function readGcState(remote: Remote): Promise<GcStateRead> {
  const got = await remote.get(keys.gcState);
  if (!got) return { state: IDLE0, etag: null };
  return { state: decodeDoc(gcStateSchema, got.body, keys.gcState), etag: got.etag };
}

/**
 * True when the holder wrote the document less than a lease ago by the time it records
 * (`at`, renewed every quarter lease). Only ever used to refuse sooner: taking over is
 * decided by this process's own clock (LeaseWatch), never by another host's.
 */
function renewedRecently(state: GcState): boolean {
  const age = Date.now() - Date.parse(state.at);
  return Number.isFinite(age) && Math.abs(age) < state.lease_ms;
}

/** True when the state's owner is a process on this host that no longer runs (its lease is void at once). */
export function ownerIsDeadHere(state: GcState): boolean {
  const o = state.owner;
  if (!o || o.host !== HOST) return false;
  if (o.pid === process.pid) return false;
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (err) {
    return !isErrnoException(err, 'EPERM');
  }
}

/**
 * Watches a state document for liveness by this process's clock: a gc that has not
 * renewed it for a whole lease (or whose process died on this host) is taken as gone.
 */
export class LeaseWatch {
  private seen = new Map<string, number>();

  /** True when `read` is held by a gc still within its lease (mark or sweep). */
  isLive(read: GcStateRead): boolean {
    if (read.state.phase === 'idle' || read.etag === null) return false;
    if (ownerIsDeadHere(read.state)) return false;
    const first = this.seen.get(read.etag) ?? performance.now();
    this.seen.set(read.etag, first);
    return performance.now() - first < read.state.lease_ms;
  }
}

/** A gc's hold on the state document: its token, the last ETag it wrote, and the lease clock. */
export class GcLease {
  private etag: string;
  private renewedAt = performance.now();
  private renewing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lost: unknown = null;

  private constructor(
    private readonly remote: Remote,
    public state: GcState,
    etag: string,
  ) {
    this.etag = etag;
  }

  /**
   * Takes the state for a new gc run (phase `mark`), from idle or from a gc whose lease
   * is over: ConflictError GC_RUNNING (4) at once while the holder renews it; a holder that
   * stopped renewing is watched for up to a lease, then taken over.
   */
  static async acquire(remote: Remote, actor: string, leaseMs: number, watch = new LeaseWatch()): Promise<GcLease> {
    for (;;) {
      const read = await readGcState(remote);
      if (watch.isLive(read)) {
        // A holder that renewed within a lease (by its own clock, as written) is taken as
        // running: refuse at once. Otherwise it may have died (on another host, where no pid
        // can be checked): watch the document by this clock, and take it only once it has
        // not changed for a whole lease; a renewal meanwhile makes it running again. Without
        // the watch, every new gc saw the document for the first time and refused, so a gc
        // that died elsewhere blocked remote gc for good.
        if (renewedRecently(read.state)) {
          throw new ConflictError('GC_RUNNING', `another gc (${read.state.owner?.actor ?? 'someone'} on ${read.state.owner?.host ?? '?'}) is running on this remote`, {
            hint: `wait for it to finish, then run \`modelctl gc --remote\` again (a gc that died is taken over once it has not renewed its lease for ${Math.round(read.state.lease_ms / 1000)} s)`,
          });
        }
        await delay(Math.max(50, Math.floor(read.state.lease_ms / 8)));
        continue;
      }
      const token = randomBytes(12).toString('hex');
      // A sweep left by a dead gc ends here: its epoch moves on so every writer re-checks.
      const epoch = read.state.phase === 'sweep' ? read.state.epoch + 1 : read.state.epoch;
      const state: GcState = { format: 1, epoch, phase: 'mark', owner: { host: HOST, pid: process.pid, token, actor }, lease_ms: leaseMs, at: new Date().toISOString() };
      try {
        const { etag } = await remote.put(keys.gcState, encodeDoc(state), { condition: read.etag === null ? { ifAbsent: true } : { ifMatch: read.etag } });
        const lease = new GcLease(remote, state, etag);
        lease.startRenewing();
        return lease;
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
        // Another gc moved it between our read and write: look again.
      }
    }
  }

  /** Moves to `phase` (epoch + 1 when a sweep starts or ends). Throws when the lease was lost. */
  async transition(phase: GcState['phase']): Promise<void> {
    if (phase === 'idle') this.stop();
    await this.renewing;
    if (this.lost) throw this.lost;
    const epoch = phase === 'sweep' || this.state.phase === 'sweep' ? this.state.epoch + 1 : this.state.epoch;
    const write = this.write({ ...this.state, epoch, phase, owner: phase === 'idle' ? null : this.state.owner, at: new Date().toISOString() });
    this.renewing = write.finally(() => {
      this.renewing = null;
    });
    await write;
  }

  /**
   * Throws unless the lease is certainly still ours: the last renewal began less than half
   * a lease ago. Called before every delete.
   */
  assertHeld(): void {
    if (this.lost) throw this.lost;
    if (performance.now() - this.renewedAt > this.state.lease_ms / 2) {
      throw new ConflictError('GC_LEASE_LOST', 'remote gc could not renew its lease in time and stopped deleting', {
        hint: 'run `modelctl gc --remote` again (nothing it had not yet deleted is lost)',
      });
    }
  }

  /** Stops renewing (after the last transition, or when giving up). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private startRenewing(): void {
    this.timer = setInterval(() => {
      if (this.renewing) return;
      this.renewing = Promise.resolve()
        .then(() => this.write({ ...this.state, at: new Date().toISOString() }))
        .catch((err: unknown) => {
          this.lost = err;
          this.stop();
        })
        .finally(() => {
          this.renewing = null;
        });
    }, Math.max(50, Math.floor(this.state.lease_ms / 4)));
    this.timer.unref();
  }

  private async write(next: GcState): Promise<void> {
    const started = performance.now();
    // A sweep's lease that ran out is never revived, even where nobody else took the
    // document: writers may already have taken this gc for dead (docs/design.md §16). A
    // marking gc deletes nothing, so only the compare-and-swap guards it.
    if (this.state.phase === 'sweep') this.assertHeld();
    try {
      const { etag } = await this.remote.put(keys.gcState, encodeDoc(next), { condition: { ifMatch: this.etag } });
      this.etag = etag;
      this.state = next;
      this.renewedAt = started;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      throw new ConflictError('GC_LEASE_LOST', 'another gc took over this remote (this one was taken for dead)', {
        hint: 'run `modelctl gc --remote` again once the other one finished',
        cause: err,
      });
    }
  }
}
