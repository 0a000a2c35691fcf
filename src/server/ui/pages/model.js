// A model's page: stage holders, a metric chart, the versions table (sorted by any column or
// metric, on the server) and the stage timeline.
import { api, seg } from '../api.js';
import { ago, badges, bytes, h, mount, plural, time, value, versionHref } from '../dom.js';
import { drawMetricChart } from '../widgets/metric-chart.js';
import { renderTimeline } from '../widgets/stage-timeline.js';

const PAGE = 50;
const MAX_METRIC_COLUMNS = 8;

export async function renderModel(main, { model }) {
  const [overview, timeline] = await Promise.all([api(`models/${seg(model)}`), api(`models/${seg(model)}/stages`)]);
  const state = { sort: '-number', offset: 0, metric: overview.metrics[0] ?? null };
  const metricCols = overview.metrics.slice(0, MAX_METRIC_COLUMNS);

  const stagesEl = h('div', { class: 'cards', id: 'stage-holders' });
  const chartEl = h('div', { id: 'chart' });
  const tableEl = h('div', { class: 'table-wrap', id: 'versions' });
  const pagerEl = h('div', { class: 'pager' });
  const timelineEl = h('div', { id: 'timeline' });

  const drawStages = (ov) =>
    mount(
      stagesEl,
      ov.stages.length === 0
        ? h('div', { class: 'muted' }, 'No stage holds a version yet (', h('code', {}, `modelctl promote ${model}@v1 --to staging`), ').')
        : ov.stages.map((s) =>
            h(
              'div',
              { class: 'card', 'data-stage': s.stage },
              h('div', { class: 'k' }, s.stage),
              h('div', { class: 'v' }, s.version ? h('a', { href: versionHref(s.version.ref) }, `v${s.version.number}`) : '—'),
              h('div', { class: 'd' }, `since ${time(s.since)}${s.actor ? ` · ${s.actor}` : ''}`, s.action === 'rollback' ? h('span', { class: 'badge rollback' }, 'rollback') : null),
              s.reason ? h('div', { class: 'd' }, `“${s.reason}”`) : null,
            ),
          ),
    );

  const drawChart = async () => {
    if (!state.metric) {
      mount(chartEl, h('div', { class: 'muted' }, 'No numeric metrics recorded yet (commit with --metric accuracy=0.93).'));
      return;
    }
    const [series, ov] = await Promise.all([api(`models/${seg(model)}/metrics/${seg(state.metric)}`), api(`models/${seg(model)}`)]);
    const marks = ov.stages.filter((s) => s.version).map((s) => ({ number: s.version.number, stage: s.stage }));
    drawMetricChart(chartEl, series, marks);
  };

  const header = (label, key, cls = '') => {
    const active = state.sort.replace(/^-/, '') === key;
    const arrow = active ? (state.sort.startsWith('-') ? ' ▼' : ' ▲') : '';
    return h(
      'th',
      {
        class: `sortable ${cls} ${active ? 'sorted' : ''}`,
        'data-sort': key,
        title: `sort by ${label}`,
        onclick: () => {
          // First click on a metric sorts best-first (descending); a second click flips it.
          state.sort = active ? (state.sort.startsWith('-') ? key : `-${key}`) : `-${key}`;
          state.offset = 0;
          void drawTable();
        },
      },
      label + arrow,
    );
  };

  const drawTable = async () => {
    const q = new URLSearchParams({ sort: state.sort, limit: String(PAGE), offset: String(state.offset) });
    const page = await api(`models/${seg(model)}/versions?${q}`);
    tableEl.dataset.sort = page.sort;
    mount(
      tableEl,
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, header('#', 'number', 'num'), h('th', {}, 'id'), header('created', 'createdAt'), h('th', {}, 'author'), h('th', {}, 'message'), h('th', {}, 'stages / tags'), header('size', 'totalSize', 'num'), metricCols.map((m) => header(m, m, 'num')))),
        h(
          'tbody',
          {},
          page.versions.map((v) =>
            h(
              'tr',
              { class: 'click', 'data-ref': v.ref, onclick: () => (location.hash = versionHref(v.ref)) },
              h('td', { class: 'num' }, h('a', { href: versionHref(v.ref), onclick: (e) => e.stopPropagation() }, `v${v.number}`)),
              h('td', { class: 'mono' }, v.shortId),
              h('td', { title: v.createdAt }, time(v.createdAt)),
              h('td', {}, v.author),
              h('td', { class: 'wrap' }, v.message),
              h('td', {}, badges(v)),
              h('td', { class: 'num' }, bytes(v.totalSize)),
              metricCols.map((m) => h('td', { class: 'num', 'data-metric': m }, m in v.metrics ? value(v.metrics[m]) : '')),
            ),
          ),
        ),
      ),
    );
    const last = Math.min(page.offset + page.versions.length, page.total);
    mount(
      pagerEl,
      h('button', { disabled: page.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); void drawTable(); } }, '← newer'),
      h('span', { class: 'muted' }, `${page.total ? page.offset + 1 : 0}–${last} of ${page.total}`),
      h('button', { disabled: last >= page.total, onclick: () => { state.offset += PAGE; void drawTable(); } }, 'older →'),
    );
  };

  const metricSelect = h(
    'select',
    { id: 'metric-select', 'aria-label': 'metric to chart', onchange: (e) => { state.metric = e.target.value; void drawChart(); } },
    overview.metrics.map((m) => h('option', { value: m }, m)),
  );

  mount(
    main,
    h('div', { class: 'sub' }, h('a', { href: '#/' }, 'Models'), ' / ', model),
    h('div', { class: 'spread' }, h('h1', {}, model), h('span', { class: 'muted' }, `${plural(overview.versions, 'version')} · latest ${overview.latest ? `v${overview.latest.number}` : '—'} · last change ${overview.lastChange ? ago(overview.lastChange) : '—'}`)),
    h('h2', {}, 'Stages'),
    stagesEl,
    h('div', { class: 'spread' }, h('h2', {}, 'Metric across versions'), overview.metrics.length ? metricSelect : null),
    h('div', { class: 'panel' }, chartEl),
    h('h2', {}, 'Versions'),
    tableEl,
    pagerEl,
    h('h2', {}, 'Stage timeline'),
    timelineEl,
  );
  drawStages(overview);
  renderTimeline(timelineEl, timeline);
  await Promise.all([drawTable(), drawChart()]);

  return {
    async onChange(notice) {
      if (notice.model !== model) return;
      const [ov, tl] = await Promise.all([api(`models/${seg(model)}`), api(`models/${seg(model)}/stages`)]);
      drawStages(ov);
      renderTimeline(timelineEl, tl, notice.kind === 'stage' ? notice.event.id : null);
      await Promise.all([drawTable(), drawChart()]);
    },
  };
}
