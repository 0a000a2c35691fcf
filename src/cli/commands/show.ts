import type { Command } from 'commander';
import type { ShowResult } from '../../api/show.js';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { remoteTargetOf, withPlainHttpOption, withReadRemoteOptions, type RemoteFlags } from '../remote-options.js';
import { eventDetail, eventVersionLabel, oneLine } from '../event-format.js';
import { formatBytes, formatTime, formatValue, table } from '../format.js';
import { runLineageLines } from '../run-format.js';
import { besidePath, modelFileLines, parameterLine, renderTensorTables } from '../tensor-format.js';

/** `modelctl show <ref>`: one version in full. */
export function registerShow(program: Command): Command {
  return withPlainHttpOption(withReadRemoteOptions(program
    .command('show')
    .description('show one version: files, lineage, params, metrics, tags, stages, events')
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .option('--tensors', 'the tensor table of each model file (safetensors, GGUF, ONNX, TF.js): name, dtype, shape, parameters, bytes')
    .option('--file <path>', 'with --tensors: only this file (its path as show lists it)')))
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl show fraud\n  modelctl show fraud@production --json\n  modelctl show llm@v7 --tensors\n  modelctl show llm@v7 --tensors --file model-00001-of-00002.safetensors --json\n  modelctl show fraud@production --remote s3://ml-registry/team   # no repository needed\n  modelctl show fraud@production --remote oci://ghcr.io/acme/models',
    )
    .action(
      action<{ tensors?: boolean; file?: string } & RemoteFlags>(async (ctx, opts, ref: string) => {
        const tensors = opts.tensors || opts.file !== undefined;
        if (tensors && opts.remote) {
          throw new UsageError('TENSORS_NEED_BYTES', '--tensors reads the model files, which --remote does not download', { hint: `pull the version first (\`modelctl pull ${ref} --remote ${opts.remote} --out <dir>\`), or drop --tensors` });
        }
        const { show } = await import('../../api/show.js');
        const result = await show({ cwd: ctx.cwd, ref, tensors, file: opts.file, ...remoteTargetOf(opts) });
        if (result.tensors) {
          for (const v of result.tensors) if (v.error) ctx.out.warn(`${v.path}: ${besidePath(v.path, v.error.message)}`);
          ctx.out.result(result, (r: ShowResult) => `${ctx.out.color.bold(r.version.ref)}  ${ctx.out.color.dim(r.version.id)}\n${renderTensorTables(r.tensors ?? [], ctx.out.color)}`);
          return;
        }
        ctx.out.result(result, (r: ShowResult) => renderShow(r, ctx.out.color));
      }),
    );
}

function renderShow(r: ShowResult, c: import('chalk').ChalkInstance): string {
  const v = r.version;
  const l = r.lineage;
  const out: string[] = [];
  out.push(`${c.bold(v.ref)}  ${c.dim(v.id)}`);
  out.push(`Date:     ${formatTime(v.createdAt)} UTC`);
  out.push(`Author:   ${v.author}`);
  if (v.message) out.push(`Message:  ${v.message}`);
  if (v.tags.length) out.push(`Tags:     ${v.tags.join(', ')}`);
  if (v.stages.length) out.push(`Stages:   ${v.stages.join(', ')}`);
  if (v.archived) out.push('Archived: yes');
  if (r.parameters) out.push(`Params:   ${parameterLine(r.parameters)}`);
  else if (r.filesNotHere) out.push(`Params:   ${c.dim(`not read: ${r.filesNotHere === r.files.length ? 'the files are' : `${r.filesNotHere} of the files are`} not here (\`modelctl pull ${v.ref}\` reads their headers)`)}`);
  out.push('', c.bold(`Files (${v.fileCount}, ${formatBytes(v.totalSize)})`));
  out.push(table(r.files.map((f) => [`  ${f.path}`, formatBytes(f.size), c.dim(f.digest.slice(0, 12))])));
  if (r.modelFiles.length) out.push('', c.bold('Model files'), ...modelFileLines(r.modelFiles, c));
  const params = Object.entries(l.params);
  if (params.length) out.push('', c.bold('Params'), table(params.map(([k, val]) => [`  ${k}`, formatValue(val)])));
  const metrics = Object.entries(l.metrics);
  if (metrics.length) out.push('', c.bold('Metrics'), table(metrics.map(([k, val]) => [`  ${k}`, formatValue(val)])));
  out.push('', c.bold('Lineage'));
  if (l.code) {
    out.push(`  code:   ${l.code.commit.slice(0, 12)}${l.code.branch ? ` (${l.code.branch})` : ''}${l.code.dirty ? c.yellow(' dirty') : ''}${l.code.remote ? `  ${l.code.remote}` : ''}`);
  } else out.push('  code:   (not recorded: outside git, or before the first git commit)'); // lineage.code is null for both
  for (const d of l.data) out.push(`  data:   ${d.source}${d.digest ? c.dim(`  ${d.digest.slice(0, 12)}`) : ''}${d.size !== undefined ? `  ${formatBytes(d.size)}` : ''}`);
  if (l.parent) out.push(`  parent: ${l.parent.model}@${l.parent.version.slice(0, 12)}`);
  out.push(...runLineageLines(l.run, c));
  out.push(`  env:    modelctl ${l.environment.modelctl}, node ${l.environment.node}, ${l.environment.os}, ${l.environment.hostname}${l.environment.ci ? `, CI ${l.environment.ci.provider}` : ''}`);
  if (r.signatures.length) {
    out.push('', c.bold('Signatures'));
    out.push(
      table(
        r.signatures.map((sg) => [
          `  ${sg.kind}`,
          sg.keyName ? `by ${sg.keyName}` : `by key ${sg.keyHint.slice(0, 16)}… (not trusted)`,
          sg.valid === true ? c.green('valid') : sg.valid === false ? c.red('INVALID') : c.yellow('unchecked'),
          `${formatTime(sg.createdAt)}`,
          sg.problem ? oneLine(sg.problem, 80) : '',
        ]),
      ),
    );
  }
  if (r.events.length) {
    out.push('', c.bold('Events'));
    out.push(table(r.events.map((e) => [`  ${formatTime(e.at)}`, e.action, e.actor, eventDetail(e) || eventVersionLabel(e), oneLine(e.reason ?? '')])));
  }
  return out.join('\n');
}
