// Small DOM and formatting helpers shared by the pages (no framework: the UI is plain modules).

/** Creates an element: h('td', {class: 'num'}, 'text', child…). Strings become text nodes (never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** 1536 → "1.5 KiB". */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** plural(1, "model") → "1 model"; 3 → "3 models" (pass the plural when it is not word + "s"). */
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** ISO time → "2026-11-01 12:00 UTC". */
export function time(iso) {
  if (!iso) return '';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** ISO time → "3 min ago". */
export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A metric or param value for a table cell. */
export function value(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** The link to a version page. */
export function versionHref(ref) {
  return `#/versions/${encodeURIComponent(ref)}`;
}

/** The link to a model page. */
export function modelHref(model) {
  return `#/models/${encodeURIComponent(model)}`;
}

/** Badges for a version's stages and tags. */
export function badges(v) {
  return [
    ...(v.stages ?? []).map((s) => h('span', { class: 'badge stage' }, s)),
    ...(v.tags ?? []).map((t) => h('span', { class: 'badge tag' }, t)),
    v.archived ? h('span', { class: 'badge archived' }, 'archived') : null,
  ];
}
