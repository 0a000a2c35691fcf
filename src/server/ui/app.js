// The web UI of `modelctl serve`: a hash router over four pages, and one live connection
// (server-sent events) whose notices refresh what the open page shows.
import { api } from './api.js';
import { h, mount } from './dom.js';
import { renderModels } from './pages/models.js';
import { renderModel } from './pages/model.js';
import { renderVersion } from './pages/version.js';
import { renderAudit } from './pages/audit.js';

const main = document.getElementById('main');
const routes = [
  [/^#?\/?$/, (m) => ['models', renderModels, {}]],
  [/^#\/models\/([^/]+)$/, (m) => ['models', renderModel, { model: decodeURIComponent(m[1]) }]],
  [/^#\/versions\/([^/?]+)(?:\?(.*))?$/, (m) => ['models', renderVersion, { ref: decodeURIComponent(m[1]), query: new URLSearchParams(m[2] ?? '') }]],
  [/^#\/audit(?:\?(.*))?$/, (m) => ['audit', renderAudit, { query: new URLSearchParams(m[1] ?? '') }]],
];

/** The open page's live hook: called with every change notice. */
let current = null;
let renderId = 0;

async function route() {
  const hash = location.hash || '#/';
  const id = ++renderId;
  for (const [re, make] of routes) {
    const m = re.exec(hash);
    if (!m) continue;
    const [nav, render, params] = make(m);
    for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
    current = null;
    main.dataset.page = render.name;
    main.setAttribute('aria-busy', 'true');
    try {
      const page = await render(main, params);
      if (id === renderId) current = page ?? null;
    } catch (err) {
      if (id === renderId) showError(err);
    } finally {
      if (id === renderId) main.removeAttribute('aria-busy');
    }
    return;
  }
  mount(main, h('div', { class: 'error' }, `No page at ${hash}`));
}

function showError(err) {
  mount(main, h('div', { class: 'error' }, h('strong', {}, err.code ? `${err.code}: ` : ''), err.message, err.hint ? h('div', { class: 'muted' }, err.hint) : null));
}

function toast(text) {
  const box = document.getElementById('toasts');
  const t = h('div', { class: 'toast' }, text);
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

function describe(n) {
  const e = n.event;
  const who = e.actor ? ` by ${e.actor}` : '';
  const v = n.version?.number ? `v${n.version.number}` : (n.version?.id ?? '').slice(0, 12);
  if (n.kind === 'stage') return `${n.model}: ${n.stage} → ${v}${e.action === 'rollback' ? ' (rollback)' : ''}${who}`;
  if (n.kind === 'tag') return `${n.model}: ${e.action} ${n.tag} on ${v}${who}`;
  if (n.kind === 'version') return `${n.model}: new version ${v}${who}`;
  return `${n.model ?? 'registry'}: ${e.action}${who}`;
}

function connectLive() {
  const live = document.getElementById('live');
  const stream = new EventSource('/api/events/stream');
  stream.onopen = () => {
    live.textContent = '● live';
    live.classList.add('on');
  };
  stream.onerror = () => {
    live.textContent = '● reconnecting';
    live.classList.remove('on');
  };
  for (const kind of ['stage', 'tag', 'version', 'audit']) {
    stream.addEventListener(kind, (msg) => {
      const notice = JSON.parse(msg.data);
      if (kind !== 'audit') toast(describe(notice));
      document.dispatchEvent(new CustomEvent('modelctl:change', { detail: notice }));
      if (current?.onChange) current.onChange(notice);
    });
  }
}

async function showSource() {
  try {
    const info = await api('info');
    document.getElementById('source').textContent = `${info.mode === 'remote' ? info.remote : 'repository'} · modelctl ${info.version} · read-only`;
  } catch {
    /* the page itself reports API errors */
  }
}

window.addEventListener('hashchange', route);
void showSource();
connectLive();
void route();
