import { keys, parseModelKey } from '../core/remote-layout.js';
import { seenRemoteRefs } from '../store/remote-tracking.js';
import { listStageHolders } from '../store/stages-table.js';
import { listTags } from '../store/tags-table.js';
import { findModelId, getVersion } from '../store/version-records.js';
import type { Database } from '../store/index-db.js';

/** A tag or stage that names one version here and another (or none) on a remote. */
export interface RefDifference {
  model: string;
  kind: 'tag' | 'stage';
  name: string;
  /** The version it names in the local index (null: not here). */
  local: string | null;
  /** The version it names on the remote (null: not there). */
  remote: string | null;
}

/** name → version id of a model's tags (or stages). */
export type RefMap = Map<string, string>;

/** The local tags and stages of a model, by name. */
export function localRefs(db: Database, model: string): { tags: RefMap; stages: RefMap } {
  const modelId = findModelId(db, model);
  if (modelId === null) return { tags: new Map(), stages: new Map() };
  return {
    tags: new Map(listTags(db, modelId).map((t) => [t.name, t.versionId])),
    stages: new Map(listStageHolders(db, modelId).map((s) => [s.stage, s.versionId])),
  };
}

/** The tags and stages of a model as this index last saw them on the remote (fetched or pushed). */
export function lastSeenRefs(db: Database, remoteId: string, model: string): { tags: RefMap; stages: RefMap } {
  const seen = (prefix: string): RefMap =>
    new Map(
      seenRemoteRefs(db, remoteId, prefix).flatMap(({ key, value }) => {
        const name = parseModelKey(key)?.name;
        const version = (value as { version?: unknown }).version;
        return name && typeof version === 'string' ? [[name, version] as const] : [];
      }),
    );
  return { tags: seen(keys.tagsPrefix(model)), stages: seen(keys.stagesPrefix(model)) };
}

/** Every name whose version differs between `local` and `remote`, sorted. */
export function compareRefs(model: string, kind: 'tag' | 'stage', local: RefMap, remote: RefMap): RefDifference[] {
  const names = [...new Set([...local.keys(), ...remote.keys()])].sort();
  return names.filter((n) => local.get(n) !== remote.get(n)).map((name) => ({ model, kind, name, local: local.get(name) ?? null, remote: remote.get(name) ?? null }));
}

/**
 * The stages of `models` that differ between the local index and what this remote was last
 * seen to hold (docs/design.md §7), as push and fetch report them. Tags are not compared
 * here: a tag made locally and never pushed is normal, a stage that differs is a decision
 * someone has to make.
 */
export function stageDifferences(db: Database, remoteId: string, models: Iterable<string>): RefDifference[] {
  return [...models].flatMap((m) => compareRefs(m, 'stage', localRefs(db, m).stages, lastSeenRefs(db, remoteId, m).stages));
}

/** One line for people: what the ref names here and there. */
export function describeDifference(db: Database, d: RefDifference, remote: string): string {
  const name = (id: string | null) => {
    if (id === null) return 'nothing';
    const v = getVersion(db, id);
    return v ? `v${v.number}` : id.slice(0, 12);
  };
  return `${d.kind} ${d.model}@${d.name} is ${name(d.local)} here and ${name(d.remote)} on ${remote}`;
}
