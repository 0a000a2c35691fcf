// The models page: every model with its stage holders, latest version and last change.
import { api } from '../api.js';
import { ago, bytes, h, modelHref, mount, plural, time, versionHref } from '../dom.js';

export async function renderModels(main) {
  const data = await api('models');
  const filter = h('input', { type: 'search', placeholder: 'Filter models…', 'aria-label': 'filter models' });
  const body = h('tbody');
  const stageCols = [...data.stageOrder];
  for (const m of data.models) for (const s of m.stages) if (!stageCols.includes(s.stage)) stageCols.push(s.stage);

  const fill = () => {
    const q = filter.value.trim().toLowerCase();
    mount(
      body,
      data.models
        .filter((m) => !q || m.name.includes(q))
        .map((m) => {
          const byStage = new Map(m.stages.map((s) => [s.stage, s]));
          return h(
            'tr',
            { class: 'click', 'data-model': m.name, onclick: () => (location.hash = modelHref(m.name)) },
            h('td', {}, h('a', { href: modelHref(m.name) }, h('strong', {}, m.name))),
            h('td', { class: 'num' }, m.versions),
            h('td', {}, m.latest ? [h('a', { href: versionHref(m.latest.ref), onclick: (e) => e.stopPropagation() }, `v${m.latest.number}`), ' ', h('span', { class: 'muted' }, time(m.latest.createdAt))] : '—'),
            stageCols.map((s) => {
              const holder = byStage.get(s);
              return h('td', { 'data-stage': s }, holder?.version ? h('span', { class: 'badge stage', title: `since ${time(holder.since)}${holder.actor ? ` by ${holder.actor}` : ''}` }, `v${holder.version.number}`) : h('span', { class: 'muted' }, '—'));
            }),
            h('td', { class: 'num' }, m.latest ? bytes(m.latest.totalSize) : ''),
            h('td', { title: m.lastChange ?? '' }, m.lastChange ? ago(m.lastChange) : '—'),
          );
        }),
    );
  };
  filter.addEventListener('input', fill);
  fill();

  mount(
    main,
    h('div', { class: 'spread' }, h('div', {}, h('h1', {}, 'Models'), h('div', { class: 'sub' }, `${plural(data.models.length, 'model')}; click one to see its versions, metrics and stage history.`)), filter),
    data.models.length === 0
      ? h('div', { class: 'panel' }, 'No models yet. Commit one with ', h('code', {}, 'modelctl commit <model> <paths>'), '.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'models-table' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Model'), h('th', { class: 'num' }, 'Versions'), h('th', {}, 'Latest'), stageCols.map((s) => h('th', {}, s)), h('th', { class: 'num' }, 'Size'), h('th', {}, 'Last change'))),
            body,
          ),
        ),
  );
  return { onChange: () => renderModels(main) };
}
