/**
 * Tags and stages on an OCI registry (docs/design.md §13): each is an OCI tag on the
 * model's repository naming the version's artifact (the same manifest as its `v<N>` tag),
 * so any OCI client reads a stage as `repository:production`. A registry has no
 * compare-and-swap: a move reads the tag, compares it with what this repository last saw,
 * replaces it, and reads it back; a move by someone else between the read and the write is
 * the window the README's caveat names. The tag's last-seen digest is the ETag of the
 * remote-tracking record, so fetch, push and --push share the layout's bookkeeping.
 */
import pLimit from 'p-limit';
import { RemoteError } from '../../errors.js';
import type { AuditEvent } from '../../core/events.js';
import { numberTag, ociTagOf, parseOciManifest, versionIdOf } from '../../core/oci-artifact.js';
import { keys, type StageDoc, type TagDoc } from '../../core/remote-layout.js';
import type { RegistryRepository, StoredManifest } from '../../remote/oci/registry-repository.js';
import { writeTransaction } from '../../store/index-db.js';
import { getRemoteRef, remoteVersionNumber, setRemoteRef } from '../../store/remote-tracking.js';
import { getStageHolder } from '../../store/stages-table.js';
import { getTag } from '../../store/tags-table.js';
import { refMovedBy, unpushedEvents, unpushedRefMoves, markEventsOnRemote } from '../../store/unpushed-events.js';
import { findModelId, getVersion } from '../../store/version-records.js';
import type { Repository } from '../../workspace/repository.js';
import { publishable } from '../publish-events.js';
import type { PushedStage, PushedTag } from '../push-refs.js';
import { movedSinceFetch, type RefName } from '../ref-cas.js';
import type { RefPublication } from '../ref-publication.js';
import { DEFAULT_JOBS } from '../transfer-progress.js';
import { appendEvents, lastMoveOf } from './oci-events.js';
import type { OciSession } from './oci-session.js';
import { uploadVersionsToRegistry } from './oci-push.js';
import { assertNoOciTagCollision } from './oci-tag-collisions.js';

/** The OCI tag a modelctl tag or stage is kept under. */
export function ociTagOfRef(ref: RefName): string {
  return ref.kind === 'tag' ? ociTagOf(ref.name) : ref.name;
}

/** The remote-tracking key of a ref (the layout's, so the bookkeeping is shared). */
function trackingKey(ref: RefName): string {
  return ref.kind === 'tag' ? keys.tag(ref.model, ref.name) : keys.stage(ref.model, ref.name);
}

/**
 * The artifact of `versionId` as the registry holds it under its number tag, checked to
 * carry that version. RemoteError (7) when the number tag no longer holds it.
 */
export async function registryArtifactOf(repo: Repository, session: OciSession, r: RegistryRepository, versionId: string): Promise<StoredManifest> {
  const n = remoteVersionNumber(repo.db, session.remoteId, versionId);
  const tag = n === undefined || n === null ? null : numberTag(n);
  const got = tag ? await r.getManifest(tag, true) : null;
  if (!got || versionIdOf(parseOciManifest(got.bytes, `${r.name}:${tag}`)) !== versionId) {
    throw new RemoteError('OCI_VERSION_MOVED', `${r.name}:${tag ?? '?'} on ${session.displayUrl} does not hold version ${versionId.slice(0, 12)} any more`, {
      hint: 'someone re-tagged it outside modelctl; run `modelctl fetch`, then push the version again',
    });
  }
  return got;
}

/** The version an OCI tag names now, with the tag's digest; null when the tag does not exist. */
async function currentOf(r: RegistryRepository, tag: string): Promise<{ digest: string; version: string | null } | null> {
  const got = await r.getManifest(tag, true);
  if (!got) return null;
  let version: string | null = null;
  try {
    version = versionIdOf(parseOciManifest(got.bytes, `${r.name}:${tag}`));
  } catch {
    version = null;
  }
  return { digest: got.digest, version };
}

/** Who moved `ref` to `version`, and when, by the registry's event log; else "someone" at "an unknown time". */
async function moverOf(r: RegistryRepository, ref: RefName, version: string | null): Promise<{ actor: string; at: string }> {
  return (version ? await lastMoveOf(r, ref.model, ref, version) : null) ?? { actor: 'someone', at: 'an unknown time' };
}

/** Replaces `tag` with `artifact` and reads it back: false when another write landed on top. */
async function replaceTag(r: RegistryRepository, tag: string, artifact: StoredManifest): Promise<boolean> {
  await r.putManifest(tag, artifact.bytes, artifact.mediaType || undefined);
  return (await r.headManifest(tag, true)) === artifact.digest;
}

/** Removes a tag, where the registry can (distribution 2.8 cannot remove a tag alone); false otherwise. */
async function deleteTagIfPossible(r: RegistryRepository, tag: string): Promise<boolean> {
  const res = await r.client.request({ method: 'DELETE', path: `/v2/${r.name}/manifests/${tag}`, scopes: r.pushScope, expect: [202, 400, 404, 405] });
  return res.status === 202 || res.status === 404;
}

/**
 * Publishes the tags moved locally of `models` (docs/design.md §13): create-only unless the
 * move was forced; a local delete removes the OCI tag where the registry allows it (else
 * the `tag-delete` event in the log is what readers go by, and a warning says so).
 */
export async function pushTagsToRegistry(repo: Repository, session: OciSession, models: ReadonlySet<string>, held: Set<string>, warnings: string[]): Promise<PushedTag[]> {
  const out: PushedTag[] = [];
  const { remoteId } = session;
  for (const { model, name, events } of unpushedRefMoves(repo.db, remoteId, models, 'tag').values()) {
    const ref: RefName = { kind: 'tag', model, name };
    const key = trackingKey(ref);
    const tag = ociTagOfRef(ref);
    const r = session.repository(model);
    const modelId = findModelId(repo.db, model);
    const local = modelId === null ? null : getTag(repo.db, modelId, name);
    if (local && remoteVersionNumber(repo.db, remoteId, local.versionId) === undefined) continue;
    const last = getRemoteRef(repo.db, remoteId, key);
    const current = await currentOf(r, tag);
    if (!local) {
      if (current && (!last || last.etag === current.digest)) {
        if (!(await deleteTagIfPossible(r, tag))) warnings.push(`${session.displayUrl} cannot remove the OCI tag ${r.name}:${tag}; modelctl readers follow the tag-delete event, other OCI clients still see the tag`);
        out.push({ model, tag: name, status: 'deleted' });
      }
      writeTransaction(repo.db, () => setRemoteRef(repo.db, remoteId, key, { etag: null, value: null }));
      continue;
    }
    const doc: TagDoc = { version: local.versionId, message: local.message, actor: local.actor, at: local.createdAt, event: events[events.length - 1].id };
    if (current?.version === local.versionId) {
      writeTransaction(repo.db, () => setRemoteRef(repo.db, remoteId, key, { etag: current.digest, value: doc }));
      out.push({ model, tag: name, status: 'in-sync' });
      continue;
    }
    const forced = events.some((e) => e.action === 'tag-move');
    if (current && !forced) {
      events.forEach((e) => held.add(e.id));
      out.push({ model, tag: name, status: 'conflict' });
      continue;
    }
    const artifact = await registryArtifactOf(repo, session, r, local.versionId);
    if (!(await replaceTag(r, tag, artifact))) {
      events.forEach((e) => held.add(e.id));
      out.push({ model, tag: name, status: 'conflict' });
      continue;
    }
    writeTransaction(repo.db, () => setRemoteRef(repo.db, remoteId, key, { etag: artifact.digest, value: doc }));
    out.push({ model, tag: name, status: current ? 'moved' : 'created' });
  }
  return out;
}

/**
 * Publishes the stages moved locally of `models`: each only if the stage tag is still what
 * this repository last saw (absent, or the same digest), then replaced and read back; else
 * `conflict` with who moved it (from the registry's event log when it says) and its events
 * held back.
 */
export async function pushStagesToRegistry(repo: Repository, session: OciSession, models: ReadonlySet<string>, actor: string, held: Set<string>): Promise<PushedStage[]> {
  const out: PushedStage[] = [];
  const { remoteId } = session;
  for (const { model, name: stage, events } of unpushedRefMoves(repo.db, remoteId, models, 'stage').values()) {
    const ref: RefName = { kind: 'stage', model, name: stage };
    const key = trackingKey(ref);
    const modelId = findModelId(repo.db, model);
    const local = modelId === null ? null : getStageHolder(repo.db, modelId, stage);
    if (!local || remoteVersionNumber(repo.db, remoteId, local.versionId) === undefined) continue;
    const r = session.repository(model);
    const last = getRemoteRef(repo.db, remoteId, key);
    const lastDoc = (last?.value ?? null) as StageDoc | null;
    if (lastDoc?.version === local.versionId) {
      out.push({ model, stage, status: 'in-sync' });
      continue;
    }
    const current = await currentOf(r, stage);
    if (current?.version === local.versionId) {
      const doc: StageDoc = { version: local.versionId, previous: lastDoc?.version ?? null, event: events[events.length - 1].id, actor, at: new Date().toISOString() };
      writeTransaction(repo.db, () => setRemoteRef(repo.db, remoteId, key, { etag: current.digest, value: doc }));
      out.push({ model, stage, status: 'in-sync' });
      continue;
    }
    if ((current?.digest ?? null) !== (lastDoc ? last?.etag ?? null : null)) {
      events.forEach((e) => held.add(e.id));
      out.push({ model, stage, status: 'conflict', remoteVersion: current?.version ?? null, movedBy: (await moverOf(r, ref, current?.version ?? null)).actor });
      continue;
    }
    const artifact = await registryArtifactOf(repo, session, r, local.versionId);
    if (!(await replaceTag(r, stage, artifact))) {
      const now = await currentOf(r, stage);
      events.forEach((e) => held.add(e.id));
      out.push({ model, stage, status: 'conflict', remoteVersion: now?.version ?? null, movedBy: (await moverOf(r, ref, now?.version ?? null)).actor });
      continue;
    }
    const doc: StageDoc = { version: local.versionId, previous: lastDoc?.version ?? null, event: events[events.length - 1].id, actor, at: new Date().toISOString() };
    writeTransaction(repo.db, () => setRemoteRef(repo.db, remoteId, key, { etag: artifact.digest, value: doc }));
    out.push({ model, stage, status: 'moved' });
  }
  return out;
}

/**
 * A `--push` tag or stage move on a registry (the RefPublication of ref-publication.ts):
 * the ref must not share its OCI tag with another tag or stage (exit 2, oci-tag-collisions.ts);
 * the OCI tag must be as this repository last saw it (exit 4 otherwise, nothing changed);
 * the version is pushed; `write` replaces the tag and reads it back (exit 4 when another
 * write landed on top); `finish` appends the move's event (and the model's other
 * publishable events) to the registry's event log.
 */
export async function openRegistryRefPublication(repo: Repository, session: OciSession, ref: RefName, versionId: string, argv: readonly string[]): Promise<RefPublication> {
  assertNoOciTagCollision(repo, ref.model, session.displayUrl, ref);
  const r = session.repository(ref.model);
  const tag = ociTagOfRef(ref);
  const key = trackingKey(ref);
  const last = getRemoteRef(repo.db, session.remoteId, key);
  const current = await currentOf(r, tag);
  const lastDigest = last?.value ? last.etag : null;
  const unchanged = current === null ? lastDigest === null : lastDigest === current.digest;
  if (!unchanged) throw movedSinceFetch(repo, session, ref, current?.version ? { version: current.version, ...(await moverOf(r, ref, current.version)) } : null, 'stale');
  const version = getVersion(repo.db, versionId);
  if (version) await uploadVersionsToRegistry(repo, session, [version], new Set([versionId]), { argv }, pLimit(DEFAULT_JOBS));
  let written: { digest: string; doc: TagDoc | StageDoc } | null = null;
  return {
    remoteVersion: current?.version ?? null,
    async write(event: AuditEvent) {
      const artifact = await registryArtifactOf(repo, session, r, versionId);
      if (!(await replaceTag(r, tag, artifact))) {
        const now = await currentOf(r, tag);
        throw movedSinceFetch(repo, session, ref, now?.version ? { version: now.version, actor: 'someone', at: 'just now' } : null, 'raced');
      }
      const doc: TagDoc | StageDoc = ref.kind === 'tag'
        ? { version: versionId, message: event.reason, actor: event.actor, at: event.at, event: event.id }
        : { version: versionId, previous: current?.version ?? null, event: event.id, actor: event.actor, at: event.at };
      written = { digest: artifact.digest, doc };
    },
    async undo() {
      if (!written) return;
      try {
        if (current) {
          const before = await r.getManifest(current.digest, true);
          if (before) await r.putManifest(tag, before.bytes, before.mediaType || undefined);
        } else {
          await deleteTagIfPossible(r, tag);
        }
      } catch {
        /* best effort: the local half failed, the remote keeps what it has */
      }
      written = null;
    },
    async finish(event: AuditEvent) {
      if (written) {
        const w = written;
        writeTransaction(repo.db, () => setRemoteRef(repo.db, session.remoteId, key, { etag: w.digest, value: w.doc }));
      }
      const events = publishable(repo.db, session, unpushedEvents(repo.db, session.remoteId, ref.model).filter((u) => u.event.id === event.id || refMovedBy(u.event) === null));
      await appendEvents(r, ref.model, events);
      writeTransaction(repo.db, () => markEventsOnRemote(repo.db, session.remoteId, events.map((u) => u.event.id)));
    },
  };
}
