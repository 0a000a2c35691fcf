import type { Command } from 'commander';
import type { HistoryResult } from '../../api/history.js';
import { action } from '../action.js';
import { eventDetail, eventVersionLabel, oneLine } from '../event-format.js';
import { formatTime, table } from '../format.js';

interface HistoryFlags {
  stage?: string;
  since?: string;
  verify?: boolean;
}

/** `modelctl history [model]`: the audit events, oldest first; --verify checks the chain. */
export function registerHistory(program: Command): Command {
  return program
    .command('history')
    .description('the audit events (commits, tags, stage moves, archive marks), oldest first')
    .argument('[model]', 'only this model')
    .option('--stage <stage>', 'only moves of this stage (promote, rollback)')
    .option('--since <date>', 'only events at or after a date (2026-11-01), a UTC date-time, or an age (12h, 7d, 2w)')
    .option('--verify', 'check the whole hash chain first; exit 6 naming the first bad event if broken')
    .addHelpText(
      'after',
      `
--json prints an array of events: {seq, id, at, actor, host, action, model, version, from, to,
reason, argv, data, hash, prevHash, pushed}.

Examples:
  modelctl history fraud --stage production
  modelctl history --since 7d --json
  modelctl history --verify`,
    )
    .action(
      action<HistoryFlags>(async (ctx, opts, model: string | undefined) => {
        const { history } = await import('../../api/history.js');
        const result = await history({ cwd: ctx.cwd, model, stage: opts.stage, since: opts.since, verify: opts.verify });
        if (ctx.out.json) {
          ctx.out.result(result.events, () => null);
          return;
        }
        ctx.out.result(result, renderHistory);
      }),
    );
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
  return lines.join('\n');
}
