/**
 * The files `init` and `card` start from, shipped in the package's `templates/` folder, and
 * the tiny placeholder language they are written in:
 *
 *   {{key}} / {{a.b}}        the value (strings as they are, numbers and booleans printed)
 *   {{#key}}…{{/key}}        a list: once per item (the item's fields come first in lookups);
 *                            any other non-empty value: once, with the value as context
 *   {{^key}}…{{/key}}        once when the value is empty (null, false, "", [])
 *   {{! note }}              a comment (one line)
 *   ${{ … }}                 left alone, so GitHub Actions expressions pass through
 *
 * A tag alone on its line takes the line with it. An unknown key is an error, not an empty
 * string, so a typo in an edited template is reported instead of silently dropped.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import { join } from 'node:path';
import * as z from 'zod';
import { NotFoundError, UsageError, fsError } from '../errors.js';
import { parseUntrustedJson } from '../core/untrusted-json.js';
import { packageRoot } from '../package-paths.js';

/** The shipped `templates/` folder (beside dist/ in the package, beside src/ in the repository). */
export const TEMPLATES_DIR = join(packageRoot(), 'templates');

/** A settings preset for `init --template <name>`: default paths, params and metrics files of a model. */
export interface InitPreset {
  name: string;
  description: string;
  paths: string[];
  params?: string;
  metrics?: string;
  data?: string[];
}

const presetSchema = z.strictObject({
  description: z.string(),
  paths: z.array(z.string().min(1)).min(1),
  params: z.string().min(1).optional(),
  metrics: z.string().min(1).optional(),
  data: z.array(z.string().min(1)).optional(),
});

/** Reads a shipped template file as UTF-8; a missing file means a broken install (exit 3 naming it). */
export function readTemplate(rel: string): string {
  const p = join(TEMPLATES_DIR, rel);
  try {
    return readRegularFileSync(p).toString('utf8');
  } catch (err) {
    const e = fsError(err, p);
    if (e.code === 'FILE_NOT_FOUND') {
      throw new NotFoundError('TEMPLATE_MISSING', `the template ${rel} is missing from ${TEMPLATES_DIR}`, {
        hint: 'the modelctl installation is incomplete; reinstall it (npm i -g modelctl)',
      });
    }
    throw e;
  }
}

/** Every preset in `templates/presets/`, sorted by name (`default` first). */
export function listPresets(): InitPreset[] {
  const dir = join(TEMPLATES_DIR, 'presets');
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)) : [];
  names.sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
  return names.map((n) => loadPreset(n));
}

/** One preset by name; an unknown name is a usage error (2) listing the known ones. */
export function loadPreset(name: string): InitPreset {
  const known = existsSync(join(TEMPLATES_DIR, 'presets'))
    ? readdirSync(join(TEMPLATES_DIR, 'presets')).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5))
    : [];
  if (!known.includes(name)) {
    throw new UsageError('UNKNOWN_TEMPLATE', `no template named '${name}'`, { hint: `choose one of: ${known.sort().join(', ')}` });
  }
  const raw = parseUntrustedJson(Buffer.from(readTemplate(`presets/${name}.json`)), `templates/presets/${name}.json`);
  const parsed = presetSchema.parse(raw);
  return { name, ...parsed };
}

/** A value a template can show: scalars, lists of contexts, nested contexts. */
export type TemplateValue = string | number | boolean | null | undefined | TemplateContext | TemplateValue[];
/** The data a template is rendered with. */
export interface TemplateContext {
  [key: string]: TemplateValue;
}

type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'var'; key: string }
  | { kind: 'section'; key: string; inverted: boolean; children: TemplateNode[] };

const TAG = /(\$?)\{\{([!#^/]?)([^}]*)\}\}/g;
const STANDALONE = /^[ \t]*(\{\{[!#^/][^{}\n]*\}\})[ \t]*\r?\n/gm;
const KEY = /^(?:\.|[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)$/;

/**
 * Renders `source` with `context` (syntax in this module's header). Throws UsageError
 * `TEMPLATE_ERROR` (exit 2) naming `what` for an unknown key or unbalanced sections.
 */
export function renderTemplate(source: string, context: TemplateContext, what = 'template'): string {
  const nodes = parseTemplate(source, what);
  const out: string[] = [];
  renderNodes(nodes, [context], out, what);
  return out.join('');
}

function parseTemplate(source: string, what: string): TemplateNode[] {
  const text = source.replace(STANDALONE, '$1');
  const root: TemplateNode[] = [];
  const stack: { key: string; children: TemplateNode[] }[] = [{ key: '', children: root }];
  let last = 0;
  for (const m of text.matchAll(TAG)) {
    const [whole, dollar, sigil, inner] = m;
    const at = m.index ?? 0;
    const top = stack[stack.length - 1].children;
    if (dollar) continue; // ${{ … }}: someone else's expression, kept verbatim
    if (at > last) top.push({ kind: 'text', text: text.slice(last, at) });
    last = at + whole.length;
    if (sigil === '!') continue;
    const key = inner.trim();
    if (!KEY.test(key)) throw templateError(what, `'{{${sigil}${inner}}}' is not a placeholder`);
    if (sigil === '#' || sigil === '^') {
      const section: TemplateNode = { kind: 'section', key, inverted: sigil === '^', children: [] };
      top.push(section);
      stack.push({ key, children: section.children });
    } else if (sigil === '/') {
      const open = stack.pop();
      if (!open || stack.length === 0 || open.key !== key) throw templateError(what, `'{{/${key}}}' closes no open section`);
    } else {
      top.push({ kind: 'var', key });
    }
  }
  if (stack.length > 1) throw templateError(what, `section '{{#${stack[stack.length - 1].key}}}' is never closed`);
  if (last < text.length) root.push({ kind: 'text', text: text.slice(last) });
  return root;
}

function lookup(key: string, stack: readonly TemplateValue[], what: string): TemplateValue {
  if (key === '.') return stack[stack.length - 1];
  const [first, ...rest] = key.split('.');
  for (let i = stack.length - 1; i >= 0; i--) {
    const ctx = stack[i];
    if (ctx !== null && typeof ctx === 'object' && !Array.isArray(ctx) && Object.hasOwn(ctx, first)) {
      let v: TemplateValue = ctx[first];
      for (const part of rest) {
        if (v === null || v === undefined) return null; // {{a.b}} of an absent a: empty, not an error
        if (typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) throw templateError(what, `unknown placeholder '{{${key}}}'`);
        v = v[part];
      }
      return v;
    }
  }
  throw templateError(what, `unknown placeholder '{{${key}}}'`);
}

function isEmpty(v: TemplateValue): boolean {
  return v === null || v === undefined || v === false || v === '' || (Array.isArray(v) && v.length === 0);
}

function renderNodes(nodes: readonly TemplateNode[], stack: TemplateValue[], out: string[], what: string): void {
  for (const n of nodes) {
    if (n.kind === 'text') out.push(n.text);
    else if (n.kind === 'var') out.push(display(lookup(n.key, stack, what)));
    else {
      const v = lookup(n.key, stack, what);
      if (n.inverted) {
        if (isEmpty(v)) renderNodes(n.children, stack, out, what);
      } else if (Array.isArray(v)) {
        for (const item of v) renderNodes(n.children, [...stack, item], out, what);
      } else if (!isEmpty(v)) {
        renderNodes(n.children, typeof v === 'object' ? [...stack, v] : stack, out, what);
      }
    }
  }
}

function display(v: TemplateValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(display).join(', ');
  return JSON.stringify(v);
}

function templateError(what: string, message: string): UsageError {
  return new UsageError('TEMPLATE_ERROR', `${what}: ${message}`, { hint: 'placeholders are {{key}}, {{#list}}…{{/list}} and {{^key}}…{{/key}} (see the README, "card")' });
}
