import { existsSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import jsonc, { type FormattingOptions } from 'jsonc-parser';
import { UsageError, fsError } from '../errors.js';
import { parseUntrustedJson } from '../core/manifest.js';
import { writeFileAtomic } from './atomic-file.js';

// jsonc-parser is CommonJS: its functions come through the default export under ESM.
const { applyEdits, findNodeAtLocation, format, modify, parseTree } = jsonc;
import type { ConfigFile } from './config.js';
import { configSchema } from './settings-schema.js';
import { describeSettingsIssue } from './settings-issues.js';

/** One change to a settings file: set `path` to `value`, or remove it when `value` is undefined. */
export interface SettingsEdit {
  path: string[];
  value: unknown;
}

/**
 * Applies `edits` to the settings file at `path` as text edits (jsonc-parser's `modify`), so
 * the file keeps its key order, indentation, line endings and one-line arrays, and a git diff
 * shows only the change; new keys go at the end of their object, indented like the file. The
 * result is validated against the settings schema before it is written (atomically): an
 * invalid result is UsageError (2) in one sentence naming the setting, and the file is not
 * touched. Returns the validated settings.
 */
export function editSettingsFile(path: string, edits: readonly SettingsEdit[]): ConfigFile {
  // Removing settings from a file that does not exist changes nothing: no file is created.
  if (!existsSync(path) && edits.every((e) => e.value === undefined)) return configSchema.parse({});
  let text = '{}\n';
  if (existsSync(path)) {
    try {
      text = readRegularFileSync(path).toString('utf8');
    } catch (err) {
      throw fsError(err, path);
    }
  }
  // An empty object has no style to keep: it is written the way a new file is.
  if (/^\s*\{\s*\}\s*$/.test(text)) text = '';
  const formatting = formattingOf(text);
  for (const e of edits) text = applyEdit(text, e, formatting);
  if (text.trim() === '') text = '{}';
  if (!text.endsWith(formatting.eol ?? '\n')) text += formatting.eol ?? '\n';
  const parsed = configSchema.safeParse(parseUntrustedJson(Buffer.from(text), path));
  if (!parsed.success) throw new UsageError('INVALID_SETTING', describeSettingsIssue(parsed.error.issues[0], configSchema), { hint: "see `modelctl config ls` and the README's configuration reference" });
  writeFileAtomic(path, text);
  return parsed.data;
}

/**
 * One edit as text. A removal is left to jsonc-parser's formatter (it tidies the lines it
 * joins). An insertion is formatted on its own, so the lines next to it stay as they were;
 * a value that replaces one written on a single line is written on a single line too.
 */
function applyEdit(text: string, e: SettingsEdit, formatting: FormattingOptions): string {
  if (e.value === undefined) {
    // Nothing to remove from an empty file (jsonc-parser throws on one): unsetting what is not set is a no-op, as in git.
    if (text.trim() === '') return text;
    return withoutEmptyParents(applyEdits(text, modify(text, e.path, undefined, { formattingOptions: formatting })), e.path, formatting);
  }
  let out = text;
  for (const raw of modify(text, e.path, e.value, {}).sort((a, b) => b.offset - a.offset)) {
    const replaced = out.slice(raw.offset, raw.offset + raw.length);
    if (raw.length > 0 && !replaced.includes('\n')) {
      // Spaced like its own line (`"paths": ["model/"]` has a space after the colon).
      const line = out.slice(out.lastIndexOf('\n', raw.offset) + 1, out.indexOf('\n', raw.offset) === -1 ? undefined : out.indexOf('\n', raw.offset));
      out = out.slice(0, raw.offset) + inline(e.value, /[,:] |\{ /.test(line)) + out.slice(raw.offset + raw.length);
      continue;
    }
    out = out.slice(0, raw.offset) + raw.content + out.slice(raw.offset + raw.length);
    out = applyEdits(out, format(out, formatRange(out, raw.offset, raw.content.length), { ...formatting, keepLines: false }));
  }
  return out;
}

/**
 * After removing `removed`, the objects above it that it leaves empty go too (`config unset
 * policies.production.clean_git` removes `"production": {}`, as `config set` created it),
 * up to a top-level setting, which stays as an empty `{}` (init writes `"policies": {}`).
 */
function withoutEmptyParents(text: string, removed: readonly string[], formatting: FormattingOptions): string {
  for (let parent = removed.slice(0, -1); parent.length > 0; parent = parent.slice(0, -1)) {
    const tree = parseTree(text);
    const node = tree && findNodeAtLocation(tree, [...parent]);
    if (node?.type !== 'object' || (node.children?.length ?? 0) > 0) break;
    if (parent.length === 1) {
      // Written as `{}`, not the `{\n  }` the removal of its last member leaves.
      return node.length > 2 ? applyEdits(text, [{ offset: node.offset, length: node.length, content: '{}' }]) : text;
    }
    text = applyEdits(text, modify(text, parent, undefined, { formattingOptions: formatting }));
  }
  return text;
}

/**
 * The range to format after inserting `length` characters at `offset`: the insertion, or,
 * when it went into an empty object or array (`"policies": {}`), that object's braces too, so
 * its first member gets a line of its own rather than `{"production": {`.
 */
function formatRange(text: string, offset: number, length: number): { offset: number; length: number } {
  const before = /[{[]\s*$/.exec(text.slice(0, offset));
  const after = /^\s*[}\]]/.exec(text.slice(offset + length));
  if (!before || !after) return { offset, length };
  return { offset: before.index, length: offset - before.index + length + after[0].length };
}

/** A JSON value on one line: `["a", "b"]` / `{ "k": 1 }` when `spaced`, else compact. */
function inline(v: unknown, spaced: boolean): string {
  if (Array.isArray(v)) return `[${v.map((x) => inline(x, spaced)).join(spaced ? ', ' : ',')}]`;
  if (v !== null && typeof v === 'object') {
    const parts = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}${spaced ? ': ' : ':'}${inline(x, spaced)}`);
    if (parts.length === 0) return '{}';
    return spaced ? `{ ${parts.join(', ')} }` : `{${parts.join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The file's own indentation and line ending (two spaces and \n for a new file). */
function formattingOf(text: string): FormattingOptions {
  const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? '  ';
  return {
    insertSpaces: !indent.startsWith('\t'),
    tabSize: indent.startsWith('\t') ? 1 : indent.length,
    eol: text.includes('\r\n') ? '\r\n' : '\n',
  };
}
