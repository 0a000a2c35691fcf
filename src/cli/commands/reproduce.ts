import type { Command } from 'commander';
import type { ReproduceResult } from '../../api/reproduce.js';
import { ConflictError } from '../../errors.js';
import { action, type CommandContext } from '../action.js';
import { formatBytes, formatDuration, formatValue } from '../format.js';

interface ReproduceFlags {
  in?: string;
  allowDirty?: boolean;
  keep?: boolean;
}

/** `modelctl reproduce <ref>`: rebuild a version from its recorded run and compare. */
export function registerReproduce(program: Command): Command {
  return program
    .command('reproduce')
    .description('rebuild a version made by `modelctl run` in a temporary git worktree at its recorded commit, and compare the outputs')
    .argument('<ref>', 'the version: <model>[@latest|@v<N>|@<stage>|@<tag>|@<id prefix>]')
    .option('--in <dir>', 'put the worktree in this folder (absent or empty; default: a temp folder)')
    .option('--allow-dirty', 'reproduce a version trained from a tree with uncommitted changes')
    .option('--keep', 'keep the worktree and the rebuilt files')
    .addHelpText(
      'after',
      `
Exit codes: 0 bit-identical (data inputs unchanged, command exit 0), 4 not reproduced (the report
says which files, data inputs and metrics differ), 2 not made by run, 3 unknown ref or git commit,
5 trained from a dirty tree (use --allow-dirty), 130 interrupted. The recorded command runs as
recorded: reproduce only versions whose lineage you trust.

Examples:
  modelctl reproduce fraud@v3
  modelctl reproduce fraud@production --json > reproduce-report.json
  modelctl reproduce fraud@v2 --in /tmp/rebuild --keep`,
    )
    .action(
      action<ReproduceFlags>(async (ctx, opts, ref: string) => {
        const { reproduce } = await import('../../api/reproduce.js');
        const result = await reproduce({ cwd: ctx.cwd, ref, in: opts.in, allowDirty: opts.allowDirty, keep: opts.keep, stdout: ctx.out.json ? 'stderr' : 'inherit' });
        ctx.out.warnAll(result);
        ctx.out.result(result, (r) => describeReproduction(ctx, r));
        if (!result.reproduced) {
          throw new ConflictError('NOT_REPRODUCED', `${result.version.ref} did not reproduce: ${reasons(result).join('; ')}`, {
            hint: 'see the report above (--json for every digest); a run that seeds from the clock or reads changed data cannot be rebuilt bit for bit',
            data: { identical: result.identical, dataMatches: result.dataMatches, exitCode: result.run.exitCode },
          });
        }
      }),
    );
}

function reasons(r: ReproduceResult): string[] {
  const out: string[] = [];
  const f = r.files;
  if (f.changed.length) out.push(`${f.changed.length} file${f.changed.length === 1 ? ' differs' : 's differ'}`);
  if (f.removed.length) out.push(`${f.removed.length} missing`);
  if (f.added.length) out.push(`${f.added.length} new`);
  const data = r.data.filter((d) => d.status === 'changed' || d.status === 'missing');
  if (data.length) out.push(`${data.length} data input${data.length === 1 ? '' : 's'} changed or missing`);
  if (r.run.exitCode !== 0) out.push(`the command exited with ${r.run.exitCode}`);
  return out;
}

function describeReproduction(ctx: CommandContext, r: ReproduceResult): string {
  const c = ctx.out.color;
  const v = `${r.version.ref} (${r.version.shortId})`;
  const timing = `${formatDuration(r.run.durationMs)} (recorded ${formatDuration(r.run.recorded.durationMs)})`;
  const lines = [
    r.reproduced
      ? `${c.green('Reproduced')} ${v} from git ${r.commit.slice(0, 12)} in ${timing}: ${r.files.unchanged} file${r.files.unchanged === 1 ? '' : 's'} bit-identical`
      : `${c.red('Not reproduced:')} ${v} from git ${r.commit.slice(0, 12)} in ${timing}`,
  ];
  for (const d of r.data) {
    const state = d.status === 'match' ? c.green('unchanged') : d.status === 'unchecked' ? c.dim('not checked') : c.red(d.status);
    lines.push(`  data ${d.source}: ${state}${d.from ? ` (${d.from})` : ''}`);
  }
  for (const f of r.files.changed) lines.push(`  ${c.yellow('differs:')} ${f.path} (${formatBytes(f.sizeBefore)} → ${formatBytes(f.sizeAfter)})`);
  for (const f of r.files.removed) lines.push(`  ${c.red('missing:')} ${f.path}`);
  for (const f of r.files.added) lines.push(`  ${c.yellow('new:    ')} ${f.path}`);
  for (const m of r.metrics.changed) {
    const delta = m.delta !== null ? ` (${m.delta >= 0 ? '+' : ''}${m.delta}${m.relative !== null ? `, ${m.relative >= 0 ? '+' : ''}${(m.relative * 100).toFixed(2)}%` : ''})` : '';
    lines.push(`  metric ${m.key}: ${formatValue(m.before)} → ${formatValue(m.after)}${delta}`);
  }
  for (const m of r.metrics.removed) lines.push(`  metric ${m.key}: ${formatValue(m.value)} → not written`);
  if (r.metrics.changed.length === 0 && r.metrics.unchanged) lines.push(`  metrics: ${r.metrics.unchanged} unchanged`);
  if (r.log) lines.push(c.dim(`  ${r.log} (the run's log) is not compared`));
  lines.push(r.kept ? `  worktree kept at ${r.worktree}` : c.dim('  worktree removed'));
  return lines.join('\n');
}
