import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** Actions recorded in the audit trail. */
export type EventAction =
  | 'commit'
  | 'tag'
  | 'tag-move'
  | 'tag-delete'
  | 'promote'
  | 'rollback'
  | 'archive'
  | 'unarchive'
  | 'gc'
  | 'renumber'
  | 'sign'
  | 'attest'
  | 'remove';

/** An audit event as stored and published (docs/design.md §8). */
export interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  host: string;
  action: EventAction;
  model: string | null;
  version: string | null;
  from: string | null;
  to: string | null;
  reason: string | null;
  argv: string[];
  /** Action-specific facts (tag name, stage, number, deleted objects…). */
  data: Record<string, unknown>;
}

export type NewEvent = Omit<AuditEvent, 'id' | 'at'> & { at?: string };

let lastAtMs = 0;

/**
 * Event times strictly increase within a process (a commit and its tag, built in the same
 * millisecond, get distinct times), so the published keys `<time>-<id>` sort every
 * repository's fetch into the order the events happened.
 */
function monotonicNow(): string {
  lastAtMs = Math.max(Date.now(), lastAtMs + 1);
  return new Date(lastAtMs).toISOString();
}

/** The hash that precedes the first event of a chain. */
export const CHAIN_START = '0'.repeat(64);

/**
 * Builds an event: `id` is the sha256 of its canonical JSON without the id (with a random
 * nonce in data, so two identical actions in one millisecond stay distinct).
 */
export function buildEvent(e: NewEvent): AuditEvent {
  const body = { ...e, at: e.at ?? monotonicNow(), data: { ...e.data, nonce: randomBytes(8).toString('hex') } };
  return { id: contentId(body), ...body };
}

/** The event's canonical JSON: what the chain hash covers and what is published. */
export function eventPayload(e: AuditEvent): string {
  return canonicalJson(e);
}

/** The id an event's content implies (the id field itself excluded). */
export function eventContentId(e: AuditEvent): string {
  const { id: _id, ...body } = e;
  return contentId(body);
}

function contentId(body: Omit<AuditEvent, 'id'>): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** Chain link: sha256(previous hash ‖ canonical JSON of the event). */
export function chainHash(prevHash: string, payload: string): string {
  return createHash('sha256').update(prevHash, 'utf8').update(payload, 'utf8').digest('hex');
}
