import type { ChalkInstance } from 'chalk';
import type { TensorDiff } from '../api/tensor-diff.js';
import type { TensorFileView } from '../api/tensor-tables.js';
import type { TensorSummaryRow, TensorTotals } from '../store/tensor-summaries.js';
import { countOf, formatBytes, formatCount, table } from './format.js';

const FORMAT_NAME: Record<string, string> = { safetensors: 'safetensors', gguf: 'GGUF', onnx: 'ONNX', tfjs: 'TF.js' };

/** "7.24 B parameters · bf16 98%, f32 2% · 290 tensors in 2 safetensors files" (show, ls's wide form, card). */
export function parameterLine(t: TensorTotals): string {
  const parts = [`${formatCount(t.parameterCount)} parameters`];
  if (t.dtypes.length) parts.push(dtypeMix(t));
  const formats = t.formats.map((f) => FORMAT_NAME[f] ?? f).join('/');
  const readable = t.files - t.unreadable;
  parts.push(`${countOf(t.tensorCount, 'tensor')} in ${readable} ${formats} file${readable === 1 ? '' : 's'}`);
  if (t.unreadable) parts.push(`${t.unreadable} unreadable`);
  return parts.join(' · ');
}

/** "bf16" alone, or "bf16 98%, f32 2%" (at most three, by parameters). */
export function dtypeMix(t: TensorTotals): string {
  if (t.dtypes.length === 1) return t.dtypes[0].dtype;
  const total = t.parameterCount || 1;
  const shown = t.dtypes.slice(0, 3).map((d) => `${d.dtype} ${percent(d.parameters / total)}`);
  return shown.join(', ') + (t.dtypes.length > 3 ? ', …' : '');
}

/** The short form ls prints: "7.24 B bf16". */
export function parameterCell(t: TensorTotals | null): string {
  if (!t) return '-';
  if (t.files === t.unreadable) return 'unreadable';
  return `${formatCount(t.parameterCount)}${t.dtypes.length ? ` ${t.dtypes[0].dtype}${t.dtypes.length > 1 ? '+' : ''}` : ''}`;
}

function percent(x: number): string {
  const p = x * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toPrecision(2)}%`;
}

/**
 * A reader's error printed beside its file's path: without the path the message starts
 * with (the readers name the file, for callers that print the message alone).
 */
export function besidePath(path: string, message: string): string {
  return message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
}

/** "[32000, 4096]" */
export function shapeText(shape: readonly (number | string)[] | null): string {
  return shape ? `[${shape.join(', ')}]` : '?';
}

/** One row per model file of show: format, counts, a few hints, or its error. */
export function modelFileLines(rows: readonly TensorSummaryRow[], c: ChalkInstance): string[] {
  return table(
    rows.map((r) => {
      if (!r.summary) return [`  ${r.path}`, FORMAT_NAME[r.format], c.red(`unreadable: ${besidePath(r.path, r.error?.message ?? '')}`)];
      const hints = Object.entries(r.summary.hints).slice(0, 4).map(([k, v]) => `${k} ${v}`).join(', ');
      return [`  ${r.path}`, FORMAT_NAME[r.format], countOf(r.summary.tensorCount, 'tensor'), `${formatCount(r.summary.parameterCount)} params`, hints ? c.dim(hints) : ''];
    }),
  ).split('\n');
}

/** The tensor tables of `show --tensors`. */
export function renderTensorTables(views: readonly TensorFileView[], c: ChalkInstance): string {
  if (views.length === 0) return 'No model files (safetensors, GGUF, ONNX or TF.js) in this version';
  const out: string[] = [];
  for (const v of views) {
    out.push('');
    if (v.error) {
      out.push(`${c.bold(v.path)}  ${FORMAT_NAME[v.format]}  ${c.red(`unreadable: ${besidePath(v.path, v.error.message)}`)}`);
      continue;
    }
    const s = v.summary;
    out.push(`${c.bold(v.path)}  ${FORMAT_NAME[v.format]}, ${s?.tensorCount ?? 0} tensors, ${formatCount(s?.parameterCount ?? 0)} parameters, ${formatBytes(s?.tensorBytes ?? 0)}`);
    const hints = Object.entries(s?.hints ?? {});
    if (hints.length) out.push(c.dim(`  ${hints.map(([k, val]) => `${k}: ${val}`).join(' · ')}`));
    for (const [label, list] of [['inputs', v.inputs], ['outputs', v.outputs]] as const) {
      if (list.length) out.push(`  ${label}: ${list.map((x) => `${x.name} ${x.dtype ?? '?'} ${shapeText(x.shape)}`).join(', ')}`);
    }
    const rows = [
      ['  NAME', 'DTYPE', 'SHAPE', 'PARAMS', 'BYTES'].map((h) => c.dim(h)),
      ...v.tensors.map((t) => [
        `  ${t.name}`,
        t.storage ? `${t.dtype} (${t.storage})` : t.dtype,
        shapeText(t.shape),
        formatCount(t.parameters),
        `${t.file ? `${t.file}@` : ''}${t.offset}+${t.length}${t.segments ? ` (${t.segments.length} shards)` : ''}`,
      ]),
    ];
    out.push(table(rows));
  }
  return out.join('\n').replace(/^\n/, '');
}

/** The tensor part of `diff --tensors`. */
export function renderTensorDiff(d: TensorDiff, c: ChalkInstance): string {
  if (d.files.length === 0) return 'Tensors: no model files in either version';
  const out: string[] = ['Tensors:'];
  // Like `git diff`, files with nothing changed are not listed one by one: they are counted
  // on one line at the end (--json still lists every file).
  const unchanged: string[] = [];
  for (const f of d.files) {
    const n0 = f.counts;
    if (!f.error && n0.changed + n0.added + n0.removed + n0.reshaped === 0) {
      unchanged.push(f.path);
      continue;
    }
    if (f.error) {
      out.push(`  ${f.path}: ${c.red(`unreadable: ${besidePath(f.path, f.error.message)}`)}`);
      continue;
    }
    const n = f.counts;
    const total = n.changed + n.unchanged + n.reshaped + n.added;
    const changedParts = [`${n.changed} of ${total} tensors changed`];
    const extra = [n.added ? `${n.added} added` : '', n.removed ? `${n.removed} removed` : '', n.reshaped ? `${n.reshaped} reshaped` : ''].filter(Boolean);
    out.push(`  ${f.path}: ${changedParts.join('')}${extra.length ? `, ${extra.join(', ')}` : ''} (${percent(f.parameters.share)} of the parameters)`);
    const rows = [
      ...f.changed.map((name) => ['    ~', name, '']),
      ...f.reshapes.map((r) => ['    ≠', r.name, `${r.before.dtype} ${shapeText(r.before.shape)} → ${r.after.dtype} ${shapeText(r.after.shape)}`]),
      ...f.added.map((name) => ['    +', name, '']),
      ...f.removed.map((name) => ['    -', name, '']),
    ];
    if (rows.length) out.push(table(rows));
  }
  if (unchanged.length) {
    const names = unchanged.length <= 3 ? unchanged.join(', ') : `${unchanged.slice(0, 3).join(', ')} and ${unchanged.length - 3} more`;
    out.push(`  ${unchanged.length === d.files.length ? 'no tensor changed in' : 'unchanged:'} ${unchanged.length} model file${unchanged.length === 1 ? '' : 's'} (${names})`);
  }
  out.push(c.dim(`  read ${formatBytes(d.bytesRead)} from the store for both versions (model files: ${formatBytes(d.modelBytes)}); ${formatBytes(d.bytesCompared)} of it compared byte for byte`));
  return out.join('\n');
}
