import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../errors.js';
import type { Database } from './index-db.js';
import { prepared } from './prepared.js';
import { processAlive } from './process-alive.js';

/**
 * gc's claims on the objects it is about to delete (docs/design.md §9).
 *
 * gc decides what to delete inside one write transaction, and in that same transaction
 * deletes the objects' rows and records a claim on each; only then, outside the
 * transaction, does it unlink the files, and it drops its claims last. A writer that makes
 * an object part of a version (commit, import) checks, inside the transaction that records
 * the version, that every object it names has its row, has its file and is claimed by no
 * live gc; otherwise the transaction is abandoned and the writer waits for that gc to
 * finish and stores the bytes again. So whichever of the two transactions comes first,
 * no version is ever recorded over bytes a gc then deletes.
 */

const HOST = hostname();

/** Who holds a claim: this process, on this host. */
export interface ClaimOwner {
  pid: number;
  host: string;
}

/** This process as a claim owner. */
export function thisOwner(): ClaimOwner {
  return { pid: process.pid, host: HOST };
}

/**
 * Claims `digests` for deletion by this process (inside gc's write transaction, together
 * with deleting their rows).
 */
export function claimObjects(db: Database, digests: readonly string[]): void {
  const ins = db.prepare('INSERT OR REPLACE INTO gc_claims (digest, pid, host, at) VALUES (?,?,?,?)');
  const at = new Date().toISOString();
  for (const d of digests) ins.run(d, process.pid, HOST, at);
}

/** Drops the claims this process holds (after its unlinks; its own small transaction). */
export function releaseClaims(db: Database): void {
  db.prepare('DELETE FROM gc_claims WHERE pid = ? AND host = ?').run(process.pid, HOST);
}

/**
 * Drops claims whose owner is gone (a gc killed between its transaction and its unlinks):
 * a dead gc deletes nothing more. Claims from other hosts are left alone (their liveness
 * cannot be told from here). Call inside a write transaction.
 */
export function dropDeadClaims(db: Database): void {
  const rows = db.prepare('SELECT DISTINCT pid, host FROM gc_claims').all() as ClaimOwner[];
  const del = db.prepare('DELETE FROM gc_claims WHERE pid = ? AND host = ?');
  for (const o of rows) if (!ownerAlive(o)) del.run(o.pid, o.host);
}

/** True when a live gc (not this process) holds a claim on `digest`. */
export function isClaimed(db: Database, digest: string): boolean {
  const rows = prepared(db, 'SELECT pid, host FROM gc_claims WHERE digest = ?').all(digest) as ClaimOwner[];
  return rows.some((o) => !(o.pid === process.pid && o.host === HOST) && ownerAlive(o));
}

/** Digests among `digests` that a live gc still claims. */
export function claimedAmong(db: Database, digests: Iterable<string>): string[] {
  const out: string[] = [];
  for (const d of digests) if (isClaimed(db, d)) out.push(d);
  return out;
}

/**
 * Thrown inside a version's write transaction when an object it names was (or is being)
 * deleted by a concurrent gc: the transaction rolls back and the caller stores the bytes
 * again (see ensureObjectsKept).
 */
export class ObjectsReclaimedError extends ConflictError {
  constructor(readonly digests: string[]) {
    super('OBJECTS_RECLAIMED', `a concurrent gc removed ${digests.length} object(s) this version needs`, {
      hint: 'run the command again (gc and this command ran at the same moment)',
      data: { objects: digests },
    });
  }
}

/**
 * The check a version's write transaction makes before the version becomes visible: every
 * object in `digests` has its index row, its file under `objectPath`, and no live gc
 * claim. Throws ObjectsReclaimedError naming the ones that fail.
 */
export function assertObjectsKept(db: Database, digests: Iterable<string>, objectPath: (digest: string) => string): void {
  const hasRow = prepared(db, 'SELECT 1 FROM objects WHERE digest = ?');
  const lost: string[] = [];
  for (const d of new Set(digests)) {
    if (!hasRow.get(d) || isClaimed(db, d) || !existsSync(objectPath(d))) lost.push(d);
  }
  if (lost.length) throw new ObjectsReclaimedError(lost);
}

/** How long a writer waits for a gc that claimed its objects (the unlinks take seconds at most). */
const CLAIM_WAIT_MS = 120_000;

/**
 * Waits until no live gc claims any of `digests` (polling; reads only). Throws
 * ConflictError when a claim outlasts the wait.
 */
export async function waitForClaims(db: Database, digests: readonly string[]): Promise<void> {
  const deadline = Date.now() + CLAIM_WAIT_MS;
  while (claimedAmong(db, digests).length > 0) {
    if (Date.now() > deadline) {
      throw new ConflictError('GC_RUNNING', 'a gc has been deleting objects this command needs for too long', {
        hint: 'wait for `modelctl gc` to finish, then run the command again',
      });
    }
    await sleep(25);
  }
}

function ownerAlive(o: ClaimOwner): boolean {
  if (o.host !== HOST) return true;
  if (o.pid === process.pid) return true;
  return processAlive(o.pid);
}
