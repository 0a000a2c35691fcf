// What differs between two versions: files, params, metrics (with deltas) and lineage.
import { bytes, h, mount, plural, value } from '../dom.js';

function section(title, rows, head) {
  if (rows.length === 0) return null;
  return h('div', {}, h('h3', { style: 'font-size:14px;margin:14px 0 6px' }, title), h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))))));
}

/** Draws a GET /api/diff result into `el`. */
export function renderDiff(el, d) {
  if (d.identical) {
    mount(el, h('div', { class: 'panel' }, `${d.a.ref} and ${d.b.ref} are identical.`));
    return;
  }
  const delta = (c) => {
    if (typeof c.delta !== 'number') return '';
    const cls = c.delta > 0 ? 'delta-up' : c.delta < 0 ? 'delta-down' : '';
    return h('span', { class: cls }, `${c.delta > 0 ? '+' : ''}${value(c.delta)}${typeof c.relative === 'number' ? ` (${(c.relative * 100).toFixed(1)}%)` : ''}`);
  };
  mount(
    el,
    h('div', { class: 'muted' }, `from ${d.a.ref} to ${d.b.ref}: ${plural(d.files.added.length, 'file')} added, ${d.files.removed.length} removed, ${d.files.changed.length} changed, ${d.files.unchanged} unchanged`),
    section('Metrics', [
      ...d.metrics.changed.map((c) => [c.key, value(c.before), value(c.after), delta(c)]),
      ...d.metrics.added.map((c) => [c.key, '—', value(c.value), 'added']),
      ...d.metrics.removed.map((c) => [c.key, value(c.value), '—', 'removed']),
    ], ['metric', 'before', 'after', 'change']),
    section('Params', [
      ...d.params.changed.map((c) => [c.key, value(c.before), value(c.after)]),
      ...d.params.added.map((c) => [c.key, '—', value(c.value)]),
      ...d.params.removed.map((c) => [c.key, value(c.value), '—']),
    ], ['param', 'before', 'after']),
    section('Files', [
      ...d.files.changed.map((f) => [f.path, 'changed', `${bytes(f.sizeBefore)} → ${bytes(f.sizeAfter)}`]),
      ...d.files.added.map((f) => [f.path, 'added', bytes(f.size)]),
      ...d.files.removed.map((f) => [f.path, 'removed', bytes(f.size)]),
    ], ['path', 'change', 'size']),
    section('Lineage', [
      d.lineage.code.changed ? ['code', d.lineage.code.before ?? '—', d.lineage.code.after ?? '—'] : null,
      d.lineage.parent.changed ? ['parent', (d.lineage.parent.before ?? '—').slice(0, 12), (d.lineage.parent.after ?? '—').slice(0, 12)] : null,
      ...d.lineage.data.added.map((x) => ['data added', '', x.source]),
      ...d.lineage.data.removed.map((x) => ['data removed', x.source, '']),
    ].filter(Boolean), ['what', 'before', 'after']),
  );
}
