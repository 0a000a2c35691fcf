/**
 * Tags and stages that would be one OCI tag (README, "OCI registries": a tag's `+` becomes
 * `_`, so `1.0+cuda` and `1.0_cuda` are both `1.0_cuda`). On a registry one would replace
 * the other, and a fetch could map the OCI tag back to one name only, so a push or a
 * `--push` that would bring such a pair to a registry is refused before it writes anything.
 */
import { UsageError } from '../../errors.js';
import { ociTagOf } from '../../core/oci-artifact.js';
import { listTags } from '../../store/tags-table.js';
import { findModelId } from '../../store/version-records.js';
import type { Repository } from '../../workspace/repository.js';
import type { RefName } from '../ref-cas.js';

type Named = { kind: 'tag' | 'stage'; name: string };

/**
 * UsageError `OCI_TAG_COLLISION` (2) when two of `model`'s tags (or a tag and a configured
 * stage) share an OCI tag. With `moving`, the ref a `--push` is about to make there, only a
 * pair that includes it counts (it is added when not made here yet).
 */
export function assertNoOciTagCollision(repo: Repository, model: string, where: string, moving?: RefName): void {
  const modelId = findModelId(repo.db, model);
  const refs: Named[] = [...(modelId === null ? [] : listTags(repo.db, modelId)).map((t) => ({ kind: 'tag' as const, name: t.name })), ...repo.settings.stages.map((s) => ({ kind: 'stage' as const, name: s }))];
  if (moving && !refs.some((r) => r.kind === moving.kind && r.name === moving.name)) refs.push({ kind: moving.kind, name: moving.name });
  const byOciTag = new Map<string, Named>();
  for (const r of refs) {
    const ociTag = r.kind === 'tag' ? ociTagOf(r.name) : r.name;
    const other = byOciTag.get(ociTag);
    if (!other) {
      byOciTag.set(ociTag, r);
      continue;
    }
    if (moving && ![r, other].some((x) => x.kind === moving.kind && x.name === moving.name)) continue;
    const [a, b] = [other, r].sort((x, y) => (x.name < y.name ? -1 : 1));
    const label = (x: Named) => `${x.kind} ${model}@${x.name}`;
    throw new UsageError('OCI_TAG_COLLISION', `${label(a)} and ${label(b)} would both be the OCI tag ${ociTag} on ${where} (OCI tags have no "+", modelctl writes "_")`, {
      hint: `rename one of them so the names differ in more than "+" and "_" (\`modelctl tag ${model}@<version> <new-name>\`, then \`modelctl tag -d ${model}@<old-name>\`); nothing was written to the registry`,
      data: { model, ociTag, tags: [a, b].filter((x) => x.kind === 'tag').map((x) => x.name), stages: [a, b].filter((x) => x.kind === 'stage').map((x) => x.name) },
    });
  }
}
