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
 * tried as a stage, then a tag, then an id prefix (≥ 7 hex). Unknown or ambiguous →
 * NotFoundError (exit 3) listing the closest candidates.
 */
export function resolveRef(db: Database, ref: string | ParsedRef): VersionRow {
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
      if (isIdPrefix(name)) {
        const found = versionsByIdPrefix(db, model, name);
        if (found.length === 1) return found[0];
        if (found.length > 1) {
          throw new NotFoundError('AMBIGUOUS_REF', `'${parsed.text}' matches more than one version`, {
            hint: 'use more characters of the id',
            data: { candidates: found.map((v) => v.id) },
          });
        }
      }
      throw unknownRef(db, parsed, modelId);
    }
  }
}

/** The model's id; unknown model → NotFoundError (3) with the closest names. */
export function requireModel(db: Database, model: string): number {
  const id = findModelId(db, model);
  if (id !== null) return id;
  const near = closest(model, listModelNames(db));
  throw new NotFoundError('UNKNOWN_MODEL', `no model named '${model}'${near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`, {
    hint: near.length ? undefined : 'list models with `modelctl ls`',
    data: { candidates: near },
  });
}

function unknownRef(db: Database, parsed: ParsedRef, modelId: number): NotFoundError {
  const names: string[] = ['latest'];
  for (const r of db.prepare('SELECT stage AS n FROM stages WHERE model_id = ?').all(modelId) as { n: string }[]) names.push(r.n);
  for (const r of db.prepare('SELECT name AS n FROM tags WHERE model_id = ?').all(modelId) as { n: string }[]) names.push(r.n);
  for (const r of db.prepare('SELECT number AS n FROM versions WHERE model_id = ? ORDER BY number DESC LIMIT 50').all(modelId) as { n: number }[]) {
    names.push(`v${r.n}`);
  }
  const wanted = parsed.selector.kind === 'number' ? `v${parsed.selector.number}` : parsed.selector.kind === 'name' ? parsed.selector.name : 'latest';
  const near = closest(wanted, names).map((n) => `${parsed.model}@${n}`);
  return new NotFoundError('UNKNOWN_REF', `unknown reference '${parsed.text}'${near.length ? ` — closest: ${near.join(', ')}` : ''}`, {
    hint: `see the versions with \`modelctl log ${parsed.model}\``,
    data: { candidates: near },
  });
}
