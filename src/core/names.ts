import { UsageError } from '../errors.js';

/** Model names: `[a-z0-9][a-z0-9._-]*` with one optional `namespace/` of the same form. */
const MODEL_PART = '[a-z0-9][a-z0-9._-]*';
const MODEL_NAME = new RegExp(`^(?:${MODEL_PART}/)?${MODEL_PART}$`);
const TAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const VERSION_NUMBER = /^v[0-9]+$/;
const MAX_NAME = 128;

/** True when `name` is a valid model name (docs/design.md §2). */
export function isModelName(name: string): boolean {
  return name.length <= MAX_NAME && MODEL_NAME.test(name) && !name.split('/').some((p) => p === '.' || p === '..' || p.endsWith('.'));
}

/** Throws a UsageError (exit 2) unless `name` is a valid model name. */
export function assertModelName(name: string): void {
  if (!isModelName(name)) {
    throw new UsageError('INVALID_MODEL_NAME', `invalid model name '${printable(name)}'`, {
      hint: 'model names are lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, with one optional "namespace/" (e.g. team/fraud-detector)',
    });
  }
}

/** True when `s` looks like a version number selector (`v12`). */
export function isVersionNumberSelector(s: string): boolean {
  return VERSION_NUMBER.test(s);
}

/**
 * Throws a UsageError (exit 2) unless `name` may be a tag: docs/design.md §2 syntax, not `v<N>`,
 * not `latest`, not one of the configured stage names.
 */
export function assertTagName(name: string, stages: readonly string[]): void {
  const bad = (why: string) =>
    new UsageError('INVALID_TAG_NAME', `invalid tag name '${printable(name)}': ${why}`, {
      hint: 'tags match [A-Za-z0-9][A-Za-z0-9._+-]* and may not be "latest", a stage name or look like a version number (v3)',
    });
  if (name.length > MAX_NAME || !TAG_NAME.test(name)) throw bad('not allowed characters');
  if (VERSION_NUMBER.test(name)) throw bad('looks like a version number');
  if (name === 'latest') throw bad('"latest" is reserved');
  if (stages.includes(name)) throw bad('it is a stage name');
}

/**
 * What only a new tag is held to, beyond assertTagName: no case variant of a reserved name
 * (`V1`, `Latest`, `Staging`). `fraud@V1` next to `fraud@v1`, or `@Staging` next to
 * `@staging`, would name different versions by a difference people do not see. Tags that
 * already exist (fetched, imported) are only held to assertTagName.
 */
export function assertNoReservedCaseVariant(name: string, stages: readonly string[]): void {
  const lower = name.toLowerCase();
  const reserved = VERSION_NUMBER.test(lower) ? `the version number ${lower}` : lower === 'latest' ? '"latest"' : stages.includes(lower) ? `the stage '${lower}'` : null;
  if (reserved !== null) {
    throw new UsageError('INVALID_TAG_NAME', `invalid tag name '${printable(name)}': it differs from ${reserved} only in case`, {
      hint: 'choose a name that is not a version number, "latest" or a stage name in any case',
    });
  }
}

/** Stage names follow the tag syntax, lower-case (they appear in keys and refs). */
export function assertStageName(name: string): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(name) || name === 'latest' || VERSION_NUMBER.test(name)) {
    throw new UsageError('INVALID_STAGE_NAME', `invalid stage name '${printable(name)}'`, {
      hint: 'stage names are lower-case letters, digits, "_" and "-", starting with a letter',
    });
  }
}

/** Renders untrusted text for an error message: control characters escaped, length capped. */
export function printable(s: string, max = 80): string {
  const escaped = JSON.stringify(s).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
