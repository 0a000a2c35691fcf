import { NotFoundError } from '../errors.js';
import { closest, isIdPrefix, parseRef, type ParsedRef } from '../core/refs.js';
import type { Database } from './index-db.js';
import {
  findModelId,
  getVersion,
  getVersionByNumber,
  latestVersion,
  listModelNames,
  versionsByIdPrefix,
  type VersionRow,
} from './version-records.js';

/**
 * The one place that turns a reference (docs/design.md §2) into a version. A name selector is
 * tried as a stage, then a tag, then an id prefix (≥ 7 hex, either case). Unknown or ambiguous →
 * NotFoundError (exit 3) listing the closest candidates. With the configured `stages`, a
 * stage no version holds yet is said to be that ("no version … is in stage 'production'
 * yet"), not an unknown name: workspace/resolve-in.ts passes them.
 */
export function resolveRef(db: Database, ref: string | ParsedRef, opts: { stages?: readonly string[] } = {}): VersionRow {
  const parsed = typeof ref === 'string' ? parseRef(ref) : ref;
  const { model, selector } = parsed;
  const modelId = requireModel(db, model);
  switch (selector.kind) {
    case 'latest': {
      const v = latestVersion(db, model);
      if (!v) throw new NotFoundError('NO_VERSIONS', `model '${model}' has no versions`, { hint: `create one with \`modelctl commit ${model} <paths>\`` });
      return v;
    }
    case 'number': {
      const v = getVersionByNumber(db, model, selector.number);
      if (!v) throw unknownRef(db, parsed, modelId);
      return v;
    }
    case 'name': {
      const name = selector.name;
      const stage = db.prepare('SELECT version_id AS id FROM stages WHERE model_id = ? AND stage = ?').get(modelId, name) as { id: string } | undefined;
      if (stage) return getVersion(db, stage.id) as VersionRow;
      const tag = db.prepare('SELECT version_id AS id FROM tags WHERE model_id = ? AND name = ?').get(modelId, name) as { id: string } | undefined;
      if (tag) return getVersion(db, tag.id) as VersionRow;
      // Ids are stored in lower case; one copied in capitals is the same id, as git reads it.
      const hex = name.toLowerCase();
      if (isIdPrefix(hex)) {
        const found = versionsByIdPrefix(db, model, hex);
        if (found.length === 1) return found[0];
        if (found.length > 1) {
          throw new NotFoundError('AMBIGUOUS_REF', `'${parsed.text}' matches more than one version`, {
            hint: 'use more characters of the id',
            data: { candidates: found.map((v) => v.id) },
          });
        }
      }
      if (opts.stages?.includes(name)) throw emptyStage(parsed, name);
      throw unknownRef(db, parsed, modelId, opts.stages);
    }
  }
}

/** `fraud@production` when production is a configured stage that no version of fraud is in. */
function emptyStage(parsed: ParsedRef, stage: string): NotFoundError {
  return new NotFoundError('UNKNOWN_REF', `no version of ${parsed.model} is in stage '${stage}' yet`, {
    hint: `promote one with \`modelctl promote ${parsed.model}@<version> --to ${stage}\`; if a teammate did, bring it with \`modelctl fetch\``,
    data: { candidates: [], emptyStage: stage },
  });
}

/**
 * `pose@v9` when pose has v1–v5: the message names the range and suggests the nearest
 * numbers (v5, which is the latest), not the names that merely look alike (v1–v3).
 */
function unknownNumber(db: Database, parsed: ParsedRef, wanted: number, modelId: number): NotFoundError {
  const range = db.prepare('SELECT MIN(number) AS lo, MAX(number) AS hi FROM versions WHERE model_id = ?').get(modelId) as { lo: number | null; hi: number | null };
  const below = db.prepare('SELECT number AS n FROM versions WHERE model_id = ? AND number < ? ORDER BY number DESC LIMIT 1').get(modelId, wanted) as { n: number } | undefined;
  const above = db.prepare('SELECT number AS n FROM versions WHERE model_id = ? AND number > ? ORDER BY number ASC LIMIT 1').get(modelId, wanted) as { n: number } | undefined;
  const near = [below?.n, above?.n].filter((n): n is number => n !== undefined).sort((a, b) => Math.abs(a - wanted) - Math.abs(b - wanted) || a - b);
  const candidates = near.map((n) => `${parsed.model}@v${n}${n === range.hi ? ' (latest)' : ''}`);
  const has = range.lo === null ? 'has no versions' : range.lo === range.hi ? `has only v${range.lo}` : `has v${range.lo}–v${range.hi}`;
  return new NotFoundError('UNKNOWN_REF', `unknown reference '${parsed.text}' — ${parsed.model} ${has}${candidates.length ? `; closest: ${candidates.join(', ')}` : ''}`, {
    hint: `see the versions with \`modelctl log ${parsed.model}\``,
    data: { candidates: near.map((n) => `${parsed.model}@v${n}`) },
  });
}

/** A selector of 1–6 hex digits that is no stage or tag: too short to be an id prefix. */
function shortIdPrefix(db: Database, parsed: ParsedRef, prefix: string): NotFoundError {
  const found = versionsByIdPrefix(db, parsed.model, prefix);
  const candidates = found.map((v) => `${parsed.model}@${v.id.slice(0, 12)}`);
  return new NotFoundError('UNKNOWN_REF', `unknown reference '${parsed.text}': version ids need 7 or more hex digits, '${prefix}' has ${prefix.length}${candidates.length ? ` (matching: ${candidates.join(', ')}${found.length > 1 ? ', …' : ''})` : ''}`, {
    hint: `copy a longer id from \`modelctl log ${parsed.model}\``,
    data: { candidates },
  });
}

/** The model's id; unknown model → NotFoundError (3) with the closest names. */
export function requireModel(db: Database, model: string): number {
  const id = findModelId(db, model);
  if (id !== null) return id;
  const near = closest(model, listModelNames(db));
  throw new NotFoundError('UNKNOWN_MODEL', `no model named '${model}'${near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`, {
    hint: near.length ? undefined : 'list models with `modelctl ls`',
    data: { candidates: near, model },
  });
}

/**
 * Candidates are `latest`, the stages (held here, and the configured ones: `fraud@prodution`
 * suggests `fraud@production` before anything was promoted, which then says the stage is
 * empty), the tags and the numbers.
 */
function unknownRef(db: Database, parsed: ParsedRef, modelId: number, stages: readonly string[] = []): NotFoundError {
  if (parsed.selector.kind === 'number') return unknownNumber(db, parsed, parsed.selector.number, modelId);
  if (parsed.selector.kind === 'name' && /^[0-9a-f]{1,6}$/i.test(parsed.selector.name)) return shortIdPrefix(db, parsed, parsed.selector.name.toLowerCase());
  const names: string[] = ['latest', ...stages];
  for (const r of db.prepare('SELECT stage AS n FROM stages WHERE model_id = ?').all(modelId) as { n: string }[]) if (!names.includes(r.n)) names.push(r.n);
  for (const r of db.prepare('SELECT name AS n FROM tags WHERE model_id = ?').all(modelId) as { n: string }[]) names.push(r.n);
  for (const r of db.prepare('SELECT number AS n FROM versions WHERE model_id = ? ORDER BY number DESC LIMIT 50').all(modelId) as { n: number }[]) {
    names.push(`v${r.n}`);
  }
  const wanted = parsed.selector.kind === 'name' ? parsed.selector.name : 'latest';
  const near = closest(wanted, names).map((n) => `${parsed.model}@${n}`);
  return new NotFoundError('UNKNOWN_REF', `unknown reference '${parsed.text}'${near.length ? ` — closest: ${near.join(', ')}` : ''}`, {
    hint: `see the versions with \`modelctl log ${parsed.model}\``,
    data: { candidates: near },
  });
}
