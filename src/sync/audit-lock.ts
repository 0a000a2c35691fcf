import type { LimitFunction } from 'p-limit';
import { parseModelKey } from '../core/remote-layout.js';
import type { StoreSession } from './remote-session.js';

/** Whether a remote's audit trail is write-once (docs/design.md §16). The --json shape of `history --verify --remote`. */
export interface AuditTrailLock {
  remote: string;
  /** False where the store has no write-once storage (a folder, s3rver): nothing below is checked. */
  supported: boolean;
  /** True when the remote's settings ask for it (`events_retention`). */
  requested: boolean;
  events: number;
  /** Events under a compliance-mode lock that has not expired. */
  locked: number;
  /** Up to 20 event keys that are not (or no longer) under lock. */
  unlocked: string[];
  /** The lock that ends first, and the mode. */
  earliestRetainUntil: string | null;
  modes: string[];
}

/** Reads the lock of every event object on the remote (one GetObjectRetention each). */
export async function readAuditTrailLock(session: StoreSession, limit: LimitFunction, model?: string): Promise<AuditTrailLock> {
  const { remote } = session;
  const out: AuditTrailLock = { remote: session.displayUrl, supported: !!remote.objectLock, requested: !!session.eventsRetentionMs, events: 0, locked: 0, unlocked: [], earliestRetainUntil: null, modes: [] };
  const keys: string[] = [];
  for await (const o of remote.list(model ? `models/${model}/` : 'models/')) if (parseModelKey(o.key)?.kind === 'events') keys.push(o.key);
  out.events = keys.length;
  const lock = remote.objectLock;
  if (!lock) return out;
  const now = Date.now();
  const modes = new Set<string>();
  let earliest: number | null = null;
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        const r = await lock.retention(key);
        if (r && r.retainUntil.getTime() > now) {
          out.locked++;
          modes.add(r.mode);
          earliest = earliest === null ? r.retainUntil.getTime() : Math.min(earliest, r.retainUntil.getTime());
        } else if (out.unlocked.length < 20) out.unlocked.push(key);
      }),
    ),
  );
  out.modes = [...modes].sort();
  out.earliestRetainUntil = earliest === null ? null : new Date(earliest).toISOString();
  return out;
}
