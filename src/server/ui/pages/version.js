// One version: summary, files (download links), params, metrics, the lineage graph, a diff
// against another version, its events, and any further section the API adds (signatures,
// tensor summaries…), shown generically until it gets its own renderer.
import { api, fileUrl, seg } from '../api.js';
import { badges, bytes, h, modelHref, mount, plural, time, value, versionHref } from '../dom.js';
import { drawLineage } from '../widgets/lineage-graph.js';
import { renderDiff } from '../widgets/diff-view.js';

/** Top-level fields of GET /api/versions/{ref} this page renders itself. */
const KNOWN = new Set(['version', 'files', 'lineage', 'events']);

/** Renderers for the sections beyond the core ones; fields nobody renders yet are shown as JSON. */
const count = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));
const SECTIONS = {
  signatures: {
    title: 'Signatures',
    render: (list) =>
      Array.isArray(list) && list.length
        ? table(['kind', 'key', 'status', 'signed', 'problem'], list.map((s) => [s.kind ?? '', s.keyName ?? s.keyHint ?? '', h('span', { class: `badge ${s.valid === true ? 'stage' : s.valid === false ? 'rollback' : 'tag'}`, 'data-valid': String(s.valid) }, s.valid === true ? '✓ valid' : s.valid === false ? '✗ invalid' : 'not checkable'), time(s.createdAt), s.problem ?? '']), { id: 'signatures' })
        : h('div', { class: 'muted' }, 'Not signed (', h('code', {}, 'modelctl sign <ref> --key release.pem'), ').'),
  },
  parameters: {
    title: 'Parameters',
    render: (p) =>
      p ? h('div', { class: 'panel', id: 'parameters' }, `${count(p.parameterCount)} parameters in ${p.tensorCount} tensors (${bytes(p.tensorBytes)}) across ${plural(p.files, 'model file')}, ${(p.formats ?? []).join(', ')}`, p.dtypes?.length ? h('div', { class: 'muted' }, p.dtypes.map((d) => `${d.dtype}: ${count(d.parameters)}`).join(' · ')) : null, p.unreadable ? h('div', { class: 'error' }, `${plural(p.unreadable, 'model file')} could not be read`) : null) : null,
  },
  modelFiles: {
    title: 'Model files',
    render: (rows) =>
      Array.isArray(rows) && rows.length
        ? table(['path', 'format', 'tensors', 'parameters', 'dtypes', 'note'], rows.map((r) => [r.path, r.format, r.summary ? String(r.summary.tensorCount) : '', r.summary ? count(r.summary.parameterCount) : '', r.summary ? Object.keys(r.summary.dtypes ?? {}).join(', ') : '', r.error ? r.error.message : '']))
        : null,
  },
};

function table(head, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' }, h('table', attrs, h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', { class: typeof c === 'string' && c.length > 60 ? 'wrap' : '' }, c)))))));
}

export async function renderVersion(main, { ref, query }) {
  const shown = await api(`versions/${seg(ref)}`);
  const v = shown.version;
  const l = shown.lineage;
  const lineageEl = h('div', { id: 'lineage' });
  const diffEl = h('div', { id: 'diff' });
  const others = await api(`models/${seg(v.model)}/versions?limit=500&sort=-number`);
  // Candidates: the model's other versions, and the parent (of any model) when it has one.
  const choices = others.versions.filter((o) => o.id !== v.id).map((o) => ({ ref: o.ref, label: `v${o.number} ${o.message.slice(0, 40)}` }));
  const parentRef = l.parent ? `${l.parent.model}@${l.parent.version}` : null;
  if (parentRef && !others.versions.some((o) => o.id === l.parent.version)) choices.unshift({ ref: parentRef, label: `parent ${l.parent.model}@${l.parent.version.slice(0, 12)}` });
  const defaultOther = query.get('diff') ?? (others.versions.find((o) => o.number < v.number)?.ref ?? choices[0]?.ref ?? null);
  const diffSelect = h(
    'select',
    { id: 'diff-select', 'aria-label': 'compare with', onchange: (e) => void showDiff(e.target.value) },
    choices.map((o) => h('option', { value: o.ref, selected: o.ref === defaultOther }, o.label)),
  );
  const showDiff = async (other) => {
    if (!other) {
      mount(diffEl, h('div', { class: 'muted' }, 'Nothing to compare with: this is the only version of the model and it has no parent.'));
      return;
    }
    renderDiff(diffEl, await api(`diff?a=${seg(other)}&b=${seg(v.ref)}`));
  };

  const params = Object.entries(l.params ?? {});
  const metrics = Object.entries(l.metrics ?? {});
  const extra = Object.keys(shown).filter((k) => !KNOWN.has(k));
  mount(
    main,
    h('div', { class: 'sub' }, h('a', { href: '#/' }, 'Models'), ' / ', h('a', { href: modelHref(v.model) }, v.model), ' / ', `v${v.number}`),
    h('div', { class: 'spread' }, h('h1', {}, v.ref, ' ', badges(v)), h('a', { href: `/api/versions/${seg(v.ref)}/tar`, download: '' }, `Download all (${bytes(v.totalSize)}, tar)`)),
    h(
      'div',
      { class: 'panel kv' },
      h('span', { class: 'k' }, 'id'), h('span', { class: 'mono' }, v.id),
      h('span', { class: 'k' }, 'created'), h('span', {}, time(v.createdAt)),
      h('span', { class: 'k' }, 'author'), h('span', {}, v.author),
      h('span', { class: 'k' }, 'message'), h('span', {}, v.message || '—'),
      h('span', { class: 'k' }, 'code'), h('span', { class: 'mono' }, l.code ? `${l.code.commit.slice(0, 12)}${l.code.branch ? ` (${l.code.branch})` : ''}${l.code.dirty ? ' dirty' : ''}` : 'not from a git repository'),
      h('span', { class: 'k' }, 'parent'), h('span', {}, parentRef ? h('a', { href: versionHref(parentRef) }, `${l.parent.model}@${l.parent.version.slice(0, 12)}`) : '—'),
      h('span', { class: 'k' }, 'environment'), h('span', {}, `modelctl ${l.environment.modelctl}, node ${l.environment.node}, ${l.environment.os}, ${l.environment.hostname}`),
    ),
    h('h2', {}, `Files (${v.fileCount})`),
    table(['path', 'size', 'digest'], shown.files.map((f) => [h('a', { href: fileUrl(v.ref, f.path), download: '' }, f.path), bytes(f.size), h('span', { class: 'mono', title: f.digest }, f.digest.slice(0, 16))]), { id: 'files' }),
    h('div', { class: 'grid', style: 'margin-top:8px' },
      h('div', {}, h('h2', {}, 'Params'), params.length ? table(['name', 'value'], params.map(([k, x]) => [k, value(x)]), { id: 'params' }) : h('div', { class: 'muted' }, 'none')),
      h('div', {}, h('h2', {}, 'Metrics'), metrics.length ? table(['name', 'value'], metrics.map(([k, x]) => [k, value(x)]), { id: 'metrics' }) : h('div', { class: 'muted' }, 'none')),
      h('div', {}, h('h2', {}, 'Data'), l.data.length ? table(['source', 'digest'], l.data.map((d) => [d.source, d.digest ? d.digest.slice(0, 12) : d.kind])) : h('div', { class: 'muted' }, 'none')),
    ),
    h('h2', {}, 'Lineage'),
    lineageEl,
    h('div', { class: 'legend' }, h('span', {}, h('i', { style: 'background:#3452d9' }), 'this version'), h('span', {}, h('i', { style: 'background:#98a2b3' }), 'other versions'), h('span', {}, h('i', { style: 'background:#f79009' }), 'data'), h('span', {}, h('i', { style: 'background:#12b76a' }), 'code')),
    h('div', { class: 'spread' }, h('h2', {}, 'Diff'), choices.length ? h('label', { class: 'row' }, 'against ', diffSelect) : null),
    diffEl,
    extra.map((k) => {
      const known = SECTIONS[k];
      const body = known ? known.render(shown[k]) : shown[k] === null || shown[k] === undefined ? null : h('pre', { class: 'panel mono', style: 'overflow:auto' }, JSON.stringify(shown[k], null, 2));
      return body ? [h('h2', {}, known?.title ?? k), body] : null;
    }),
    h('h2', {}, 'Events'),
    shown.events.length ? table(['time', 'action', 'actor', 'reason'], [...shown.events].reverse().map((e) => [time(e.at), e.action, e.actor, e.reason ?? ''])) : h('div', { class: 'muted' }, 'none'),
  );
  const graph = await api(`versions/${seg(v.ref)}/lineage`);
  drawLineage(lineageEl, graph);
  await showDiff(defaultOther);
  return {
    async onChange(notice) {
      if (notice.model === v.model && notice.kind !== 'audit') await renderVersion(main, { ref, query });
    },
  };
}
