import type { Command } from 'commander';
import type { AuditTrailLock } from '../../api/audit-trail-lock.js';
import type { HistoryResult } from '../../api/history.js';
import { action } from '../action.js';
import { remoteTargetOf, withEndpointOptions, type RemoteFlags } from '../remote-options.js';
import { eventDetail, eventVersionLabel, oneLine } from '../event-format.js';
import { formatTime, table } from '../format.js';

interface HistoryFlags extends RemoteFlags {
  stage?: string;
  since?: string;
  verify?: boolean;
}

/** `modelctl history [model]`: the audit events, oldest first; --verify checks the chain. */
export function registerHistory(program: Command): Command {
  return withEndpointOptions(program
    .command('history')
    .description('the audit events (commits, tags, stage moves, archive marks), oldest first')
    .argument('[model]', 'only this model')
    .option('--stage <stage>', 'only moves of this stage (promote, rollback)')
    .option('--since <date>', 'only events at or after a date (2026-11-01), a UTC date-time, or an age (12h, 7d, 2w)')
    .option('--verify', 'check the whole hash chain first; exit 6 naming the first bad event if broken')
    .option('-r, --remote <name|url>', "list this remote's events instead (no repository needed); with --verify: compare the remote's copies of the events with these and its stage documents with every stage move, and report whether its events are write-once (S3 Object Lock); exit 6 listing each difference, or when its settings ask for a lock some events lack"))
    .addHelpText(
      'after',
      `
--json prints an array of events: {seq, id, at, actor, host, action, model, version, from, to,
reason, argv, data, hash, prevHash, pushed, unvouched?}; unvouched marks a promote or
rollback no recorded stage move carries. With --verify --remote it prints {events, remoteTrail,
remoteAudit}: remoteAudit lists every difference between the remote's events and these.

Examples:
  modelctl history fraud --stage production
  modelctl history --since 7d --json
  modelctl history --verify
  modelctl history --verify --remote origin
  modelctl history fraud --remote s3://ml-registry/team   # no repository needed`,
    )
    .action(
      action<HistoryFlags>(async (ctx, opts, model: string | undefined) => {
        const { history, assertRemoteAudit } = await import('../../api/history.js');
        const result = await history({ cwd: ctx.cwd, model, stage: opts.stage, since: opts.since, verify: opts.verify, ...remoteTargetOf(opts) });
        if (opts.remote && opts.verify) {
          const { IntegrityError } = await import('../../errors.js');
          const { auditTrailLock } = await import('../../api/audit-trail-lock.js');
          const lock = await auditTrailLock({ cwd: ctx.cwd, remote: opts.remote, model });
          ctx.out.result({ events: result.events, remoteTrail: lock, remoteAudit: result.remoteAudit }, () => `${renderHistory(result)}\n${renderLock(lock)}`);
          // Copies that differ first: they are the worse news.
          assertRemoteAudit(result);
          if (lock.requested && (!lock.supported || lock.locked < lock.events)) {
            throw new IntegrityError('EVENTS_NOT_LOCKED', lock.supported ? `${lock.events - lock.locked} of ${lock.events} events on ${lock.remote} are not under Object Lock although events_retention asks for it` : `${lock.remote} cannot keep events write-once, although events_retention asks for it`, {
              hint: lock.supported ? 'events written before events_retention was set, or by an older modelctl, are not locked' : 'this store has no write-once storage: remove events_retention or use an S3 bucket with Object Lock',
              data: { unlocked: lock.unlocked },
            });
          }
          return;
        }
        if (ctx.out.json) ctx.out.result(result.events, () => null);
        else ctx.out.result(result, renderHistory);
      }),
    );
}

function renderLock(l: AuditTrailLock): string {
  if (!l.supported) return `Remote trail on ${l.remote}: ${l.events} event${l.events === 1 ? '' : 's'}, NOT write-once (this store has no Object Lock: anyone who can write it can rewrite history)`;
  if (l.events > 0 && l.locked === l.events) return `Remote trail on ${l.remote}: all ${l.events} events under Object Lock (${l.modes.join(', ')}) until at least ${l.earliestRetainUntil}`;
  return `Remote trail on ${l.remote}: ${l.locked} of ${l.events} events under Object Lock${l.unlocked.length ? `; not locked: ${l.unlocked.slice(0, 3).join(', ')}${l.unlocked.length > 3 ? ', …' : ''}` : ''}`;
}

function renderHistory(r: HistoryResult): string {
  const lines: string[] = [];
  if (r.events.length === 0) lines.push('No events');
  else {
    lines.push(
      table([
        ['SEQ', 'TIME (UTC)', 'ACTOR', 'ACTION', 'VERSION', 'DETAIL', 'REASON'],
        ...r.events.map((e) => [String(e.seq), formatTime(e.at), e.actor, e.action, eventVersionLabel(e), eventDetail(e), oneLine(e.reason ?? '')]),
      ]),
    );
  }
  if (r.verified) lines.push(`Audit chain verified: ${r.head?.count ?? 0} event${r.head?.count === 1 ? '' : 's'}${r.head ? `, head ${r.head.hash.slice(0, 12)}` : ''}`);
  for (const m of r.unvouchedMoves) {
    lines.push(`warning: event ${m.id.slice(0, 12)} (seq ${m.seq}, ${m.model}${m.stage ? ` ${m.stage}` : ''}, by ${m.actor}) moves a stage, but no recorded stage move carries it: the stage documents never vouched for it (or it came in a bundle)`);
  }
  if (r.remoteAudit) {
    const a = r.remoteAudit;
    lines.push(`Compared with ${a.remote}: ${a.local} event${a.local === 1 ? '' : 's'} here, ${a.remoteEvents} there${a.differences.length ? '' : ': no differences'}`);
    for (const d of a.differences) lines.push(`  ${d.kind}: ${d.model} ${d.id ? d.id.slice(0, 12) : ''}${d.key ? ` (${d.key})` : ''}  ${d.detail}`);
  }
  return lines.join('\n');
}
