// The stage timeline: who moved which version to which stage when, and why; rollbacks marked.
import { h, mount, time, versionHref } from '../dom.js';

const label = (v) => (v ? (v.ref ? h('a', { href: versionHref(v.ref) }, `v${v.number}`) : h('span', { class: 'mono' }, v.id.slice(0, 12))) : h('span', { class: 'muted' }, 'none'));

/** Draws the moves newest first into `el`; the move of event `freshEvent` is highlighted. */
export function renderTimeline(el, timeline, freshEvent = null) {
  if (timeline.moves.length === 0) {
    mount(el, h('div', { class: 'muted panel' }, 'No stage moves yet.'));
    return;
  }
  mount(
    el,
    h(
      'ol',
      { class: 'timeline panel', style: 'padding:0' },
      [...timeline.moves].reverse().map((m) =>
        h(
          'li',
          { class: `${m.rollback ? 'rollback' : ''} ${freshEvent && m.event === freshEvent ? 'fresh' : ''}`, 'data-stage': m.stage, 'data-action': m.action ?? '' },
          h('span', { class: 'muted', title: m.at }, time(m.at)),
          h('span', {}, h('span', { class: `badge ${m.rollback ? 'rollback' : 'promote'}` }, m.rollback ? 'rollback' : (m.action ?? 'move')), h('strong', {}, m.stage)),
          h('span', {}, label(m.previous), ' → ', label(m.version), m.actor ? h('span', { class: 'muted' }, ` · ${m.actor}`) : null, m.reason ? h('span', {}, ` — “${m.reason}”`) : null),
        ),
      ),
    ),
  );
}
