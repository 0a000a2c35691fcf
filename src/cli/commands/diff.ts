import type { Command } from 'commander';
import type { DiffResult } from '../../api/diff.js';
import { action } from '../action.js';
import { formatBytes, formatValue, table } from '../format.js';
import { renderTensorDiff } from '../tensor-format.js';

/** `modelctl diff <refA> <refB>`: files, params, metrics and lineage between two versions. */
export function registerDiff(program: Command): Command {
  return program
    .command('diff')
    .description('compare two versions: files (with sizes), params, metrics (with deltas), lineage')
    .argument('<refA>', 'the "before" version')
    .argument('<refB>', 'the "after" version')
    .option('--tensors', 'compare model files tensor by tensor: added, removed, reshaped, changed (reads only headers and changed chunks)')
    .addHelpText('after', '\nExamples:\n  modelctl diff fraud@production fraud@latest\n  modelctl diff fraud@v3 fraud@v4 --json\n  modelctl diff llm@v6 llm@v7 --tensors')
    .action(
      action<{ tensors?: boolean }>(async (ctx, opts, refA: string, refB: string) => {
        const { diff } = await import('../../api/diff.js');
        const result = await diff({ cwd: ctx.cwd, refA, refB, tensors: opts.tensors });
        for (const f of result.tensors?.files ?? []) if (f.error) ctx.out.warn(`${f.path}: ${f.error.message}`);
        ctx.out.result(result, (r) => renderDiff(r) + (r.tensors ? `\n\n${renderTensorDiff(r.tensors, ctx.out.color)}` : ''));
      }),
    );
}

function signed(n: number, fmt: (x: number) => string = String): string {
  return n > 0 ? `+${fmt(n)}` : n < 0 ? `-${fmt(-n)}` : `±${fmt(0)}`;
}

function renderDiff(r: DiffResult): string {
  const out: string[] = [`diff ${r.a.ref} (${r.a.shortId}) → ${r.b.ref} (${r.b.shortId})`];
  if (r.identical) {
    out.push('No differences in files, params, metrics or lineage');
    return out.join('\n');
  }
  const f = r.files;
  if (f.added.length + f.removed.length + f.changed.length) {
    // Every count, so "Files (16 unchanged):" above a list of changes does not read as a list of 16.
    const counts = [[f.added.length, 'added'], [f.removed.length, 'removed'], [f.changed.length, 'changed'], [f.unchanged, 'unchanged']] as const;
    out.push('', `Files (${counts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`).join(', ')}):`);
    out.push(
      table([
        ...f.added.map((x) => ['  +', x.path, formatBytes(x.size)]),
        ...f.removed.map((x) => ['  -', x.path, formatBytes(x.size)]),
        ...f.changed.map((x) => [
          '  ~',
          x.path,
          `${formatBytes(x.sizeBefore)} → ${formatBytes(x.sizeAfter)} (${signed(x.sizeDelta, formatBytes)})${x.modeBefore !== x.modeAfter ? ` mode ${x.modeBefore.toString(8)} → ${x.modeAfter.toString(8)}` : ''}`,
        ]),
      ]),
    );
  }
  const p = r.params;
  if (p.added.length + p.removed.length + p.changed.length) {
    out.push('', 'Params:');
    out.push(
      table([
        ...p.added.map((x) => ['  +', x.key, formatValue(x.value)]),
        ...p.removed.map((x) => ['  -', x.key, formatValue(x.value)]),
        ...p.changed.map((x) => ['  ~', x.key, `${formatValue(x.before)} → ${formatValue(x.after)}`]),
      ]),
    );
  }
  const m = r.metrics;
  if (m.added.length + m.removed.length + m.changed.length) {
    out.push('', 'Metrics:');
    out.push(
      table([
        ...m.added.map((x) => ['  +', x.key, formatValue(x.value), '']),
        ...m.removed.map((x) => ['  -', x.key, formatValue(x.value), '']),
        ...m.changed.map((x) => [
          '  ~',
          x.key,
          `${formatValue(x.before)} → ${formatValue(x.after)}`,
          x.delta === null ? '' : `${signed(x.delta)}${x.relative === null ? '' : ` (${signed(Number((x.relative * 100).toPrecision(3)))}%)`}`,
        ]),
      ]),
    );
  }
  const l = r.lineage;
  const lineage: string[][] = [];
  if (l.code.changed) lineage.push(['  ~', 'code', `${l.code.before?.slice(0, 12) ?? 'none'} → ${l.code.after?.slice(0, 12) ?? 'none'}`]);
  if (l.parent.changed) lineage.push(['  ~', 'parent', `${l.parent.before?.slice(0, 12) ?? 'none'} → ${l.parent.after?.slice(0, 12) ?? 'none'}`]);
  for (const d of l.data.added) lineage.push(['  +', 'data', `${d.source}${d.digest ? ` ${d.digest.slice(0, 12)}` : ''}`]);
  for (const d of l.data.removed) lineage.push(['  -', 'data', `${d.source}${d.digest ? ` ${d.digest.slice(0, 12)}` : ''}`]);
  if (lineage.length) out.push('', 'Lineage:', table(lineage));
  return out.join('\n');
}
