// The audit log: every event, newest first, under the verification badge of the hash chain.
import { api } from '../api.js';
import { h, mount, plural, time, versionHref } from '../dom.js';

export async function renderAudit(main, { query }) {
  const model = query.get('model') ?? '';
  const [log, models] = await Promise.all([api(`events?limit=1000${model ? `&model=${encodeURIComponent(model)}` : ''}`), api('models')]);
  const badge = log.verified
    ? h('span', { class: 'verified ok', id: 'chain-status', 'data-verified': 'true' }, `✓ audit chain verified · ${plural(log.head?.count ?? 0, 'event')}`)
    : h('span', { class: 'verified broken', id: 'chain-status', 'data-verified': 'false' }, `✗ audit chain broken at event #${log.firstBad?.position}: ${log.firstBad?.message}`);
  const select = h(
    'select',
    { 'aria-label': 'model', onchange: (e) => (location.hash = e.target.value ? `#/audit?model=${encodeURIComponent(e.target.value)}` : '#/audit') },
    h('option', { value: '' }, 'all models'),
    models.models.map((m) => h('option', { value: m.name, selected: m.name === model }, m.name)),
  );
  const label = (e) => {
    const d = e.data ?? {};
    const what = d.stage ? `${d.stage}` : d.tag ? `tag ${d.tag}` : '';
    return [what, d.number ? ` v${d.number}` : '', d.fromNumber ? ` (from v${d.fromNumber})` : ''].join('');
  };
  mount(
    main,
    h('div', { class: 'spread' }, h('h1', {}, 'Audit log'), select),
    h('div', { class: 'sub' }, 'Every change is an event hash-chained to the one before it; the badge says whether the whole local chain verifies (', h('code', {}, 'modelctl history --verify'), ').'),
    h('div', { style: 'margin-bottom:12px' }, badge),
    log.total > log.events.length ? h('div', { class: 'muted' }, `showing the newest ${log.events.length} of ${log.total}`) : null,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'events' },
        h('thead', {}, h('tr', {}, ['#', 'time', 'action', 'model', 'what', 'actor', 'reason', 'hash'].map((x) => h('th', {}, x)))),
        h(
          'tbody',
          {},
          [...log.events].reverse().map((e) =>
            h(
              'tr',
              { 'data-action': e.action, class: log.firstBad && log.firstBad.seq === e.seq ? 'bad' : '' },
              h('td', { class: 'num' }, e.seq),
              h('td', {}, time(e.at)),
              h('td', {}, h('span', { class: `badge ${e.action === 'rollback' ? 'rollback' : 'promote'}` }, e.action)),
              h('td', {}, e.model ?? ''),
              h('td', {}, e.model && e.data?.number ? h('a', { href: versionHref(`${e.model}@v${e.data.number}`) }, label(e)) : label(e)),
              h('td', {}, e.actor),
              h('td', { class: 'wrap' }, e.reason ?? ''),
              h('td', { class: 'mono', title: e.hash }, e.hash.slice(0, 10)),
            ),
          ),
        ),
      ),
    ),
  );
  return { onChange: () => renderAudit(main, { query }) };
}
