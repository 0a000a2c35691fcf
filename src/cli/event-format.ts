import { countOf } from './format.js';
import type { AuditEvent } from '../core/events.js';

/** The version an event is about, as people name it (`fraud@v3`). */
export function eventVersionLabel(e: AuditEvent): string {
  const n = e.data.number;
  if (e.model && typeof n === 'number') return `${e.model}@v${n}`;
  if (e.model) return e.version ? `${e.model}@${e.version.slice(0, 12)}` : e.model;
  return e.version ? e.version.slice(0, 12) : '';
}

/** What an event changed, in a few words (`production: v1 → v2`, `tag 1.0.0`). */
export function eventDetail(e: AuditEvent): string {
  const num = (n: unknown) => (typeof n === 'number' ? `v${n}` : 'none');
  switch (e.action) {
    case 'promote':
    case 'rollback':
      return `${String(e.data.stage)}: ${num(e.data.fromNumber)} → ${num(e.data.number)}`;
    case 'tag':
      return `tag ${String(e.data.tag)}`;
    case 'tag-move':
      return `tag ${String(e.data.tag)}: ${num(e.data.fromNumber)} → ${num(e.data.number)}`;
    case 'tag-delete':
      return `tag ${String(e.data.tag)} deleted`;
    case 'renumber':
      return `${e.from ?? '?'} → ${e.to ?? '?'}`;
    case 'sign':
    case 'attest':
      return `${e.action === 'sign' ? 'signed' : 'attested'} by ${typeof e.data.keyName === 'string' ? e.data.keyName : `key ${String(e.data.keyHint ?? '').slice(0, 12)}`}`;
    case 'gc':
      return `${countOf(Number(e.data.deleted ?? 0), 'object')} deleted`;
    case 'remove':
      return `v${String(e.data.number ?? "?")} removed from ${String(e.data.remote ?? "the remote")}`;
    default:
      return '';
  }
}

/** A reason or message on one line, shortened. */
export function oneLine(s: string, max = 60): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
