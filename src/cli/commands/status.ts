import type { Command } from 'commander';
import type { ModelStatus, StatusResult } from '../../api/status.js';
import type { VersionSummary } from '../../api/views.js';
import { action } from '../action.js';
import { countOf } from '../format.js';
import { describeLockStatus } from '../lock-report.js';

/** `modelctl status [model]`: what changed since the version the work tree holds. */
export function registerStatus(program: Command): Command {
  return program
    .command('status')
    .description('show which tracked files changed since the version checked out (or last committed) here')
    .argument('[model]', 'one model (default: all)')
    .addHelpText('after', '\nExamples:\n  modelctl status\n  modelctl status fraud --json')
    .action(
      action<object>(async (ctx, _opts, model?: string) => {
        const { status } = await import('../../api/status.js');
        const result = await status({ cwd: ctx.cwd, model });
        ctx.out.result(result, (r: StatusResult) => {
          const c = ctx.out.color;
          if (r.models.length === 0 && !r.lock) return 'No models yet: commit one with `modelctl commit <model> <paths>`';
          const lines: string[] = [];
          for (const m of r.models) {
            if (neverPlaced(m)) {
              // Fetched (or pulled, then interrupted) but never checked out: not N deletions.
              lines.push(`${c.bold(m.model)}: ${describe(m.version!)} is not checked out here (${countOf(m.deleted.length, 'file')}, none in the workspace): \`modelctl pull ${m.model}\` places it`);
              continue;
            }
            lines.push(`${c.bold(m.model)}: ${headline(m)}`);
            for (const f of m.modified) lines.push(`  ${c.yellow('modified:')} ${f.path}`);
            for (const f of m.added) lines.push(`  ${c.green('new:     ')} ${f.path}`);
            for (const f of m.deleted) lines.push(`  ${c.red('deleted: ')} ${f.path}`);
            for (const f of m.notRegular) lines.push(`  ${c.red('not a file:')} ${f.path} (${f.kind === 'broken-link' ? 'broken link' : f.kind}; commit refuses it)`);
          }
          lines.push(...describeLockStatus(r.lock, c));
          return lines.join('\n');
        });
      }),
    );
}

/** No placement record and not one of the version's files in the work tree, nothing else either. */
function neverPlaced(m: ModelStatus): boolean {
  return m.version !== null && m.checkedOut === null && m.deleted.length > 0 && m.unchanged === 0 && m.modified.length === 0 && m.added.length === 0 && m.notRegular.length === 0;
}

/** "workspace matches fraud@v3 (production); latest is v7", or what differs from it. */
function headline(m: ModelStatus): string {
  if (!m.version) return 'no versions yet';
  const changes = m.modified.length + m.added.length + m.deleted.length + m.notRegular.length;
  const what = m.clean ? `workspace matches ${describe(m.version)}` : `workspace differs from ${describe(m.version)} (${countOf(changes, 'change')})`;
  const latest = m.latest && m.latest.id !== m.version.id ? `; latest is v${m.latest.number}` : '';
  return what + latest;
}

/** "fraud@v3 (production, 1.4.0)": a version with its stages and tags. */
function describe(v: VersionSummary): string {
  const labels = [...v.stages, ...v.tags];
  return `${v.ref}${labels.length ? ` (${labels.join(', ')})` : ''}`;
}
