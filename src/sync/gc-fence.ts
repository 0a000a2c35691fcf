import { setTimeout as sleep } from 'node:timers/promises';
import type { LimitFunction } from 'p-limit';
import { IntegrityError } from '../errors.js';
import { parseManifest } from '../core/manifest.js';
import { FORMAT_VERSION } from '../core/manifest.js';
import { decodeDoc, encodeDoc, fileListSchema, keys, type FileList } from '../core/remote-layout.js';
import type { ChunkRef } from '../store/hash-file.js';
import { writeTransaction } from '../store/index-db.js';
import { forgetRemoteChunks, getRemoteRef, rememberRemoteChunks, setRemoteRef } from '../store/remote-tracking.js';
import { readRange } from '../store/positional-io.js';
import { listKeysOf } from '../remote/remote.js';
import { barrier } from '../store/test-barrier.js';
import { fileChunks, type VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import { LeaseWatch, readGcState, type GcStateRead } from './remote-gc-state.js';
import type { StoreSession } from './remote-session.js';

/**
 * A push's fence against a concurrent remote gc (docs/design.md §16). Opened before the
 * upload plan: when the remote's gc epoch is not the one this index last saw settled, the
 * memory of chunks "known to be there" is dropped, because a sweep may have deleted them.
 * `settle` runs before numbers are claimed (and once after): it waits out a live sweep, and
 * whenever the epoch moved since the last check it re-checks every object the versions need
 * and uploads what is missing, until two reads of the state agree.
 */
export class PushFence {
  private readonly watch = new LeaseWatch();

  private constructor(
    private readonly repo: Repository,
    private readonly session: StoreSession,
    /** The settled state every object this push relies on was checked under (null: none yet). */
    private base: string | null,
  ) {}

  /** Reads the gc state and drops stale chunk memory (one GET). */
  static async open(repo: Repository, session: StoreSession): Promise<PushFence> {
    const read = await readGcState(session.remote);
    const remembered = getRemoteRef(repo.db, session.remoteId, '.gc-epoch')?.value;
    const token = settledToken(read);
    if (token === null || remembered !== token) {
      writeTransaction(repo.db, () => {
        forgetRemoteChunks(repo.db, session.remoteId);
        if (token !== null) setRemoteRef(repo.db, session.remoteId, '.gc-epoch', { etag: null, value: token });
      });
    }
    return new PushFence(repo, session, token);
  }

  /**
   * Returns once no sweep can delete what `versions` need: a live sweep is waited for;
   * when the settled state differs from the one the objects were checked under, they are
   * checked again (`repairOnRemote`) and the loop reads the state once more. Returns the
   * versions that cannot be made whole from this repository (to be left unclaimed).
   */
  async settle(versions: readonly VersionRow[], limit: LimitFunction): Promise<Set<string>> {
    let broken = new Set<string>();
    barrier('push-fence');
    for (;;) {
      const read = await readGcState(this.session.remote);
      if (this.watch.isLive(read) && read.state.phase === 'sweep') {
        await sleep(Math.min(500, Math.max(20, read.state.lease_ms / 20)));
        continue;
      }
      const token = settledToken(read) ?? `expired:${read.etag}`;
      if (token === this.base) break;
      broken = await repairOnRemote(this.repo, this.session, versions, limit);
      this.base = token;
    }
    const settled = this.base;
    if (!settled.startsWith('expired:')) writeTransaction(this.repo.db, () => setRemoteRef(this.repo.db, this.session.remoteId, '.gc-epoch', { etag: null, value: settled }));
    return broken;
  }
}

/** `idle:<epoch>` for a state no sweep can be deleting under (idle or mark), null during a sweep. */
function settledToken(read: GcStateRead): string | null {
  return read.state.phase === 'sweep' ? null : `idle:${read.state.epoch}`;
}

/** With more chunks than this to check, one listing of chunks/ beats a HEAD each. */
const HEAD_LIMIT = 256;

/**
 * Makes sure the remote holds everything `versions` need — manifest, file lists, chunks —
 * uploading from this repository what is missing. Returns the ids of versions that lack
 * something this repository cannot supply.
 */
export async function repairOnRemote(repo: Repository, session: StoreSession, versions: readonly VersionRow[], limit: LimitFunction): Promise<Set<string>> {
  const { remote } = session;
  const broken = new Set<string>();
  const chunkSources = new Map<string, { object: string; offset: number; length: number } | null>();
  const chunkOwners = new Map<string, Set<string>>();
  const need = (digest: string, versionId: string, src: { object: string; offset: number; length: number } | null) => {
    if (!chunkSources.get(digest)) chunkSources.set(digest, src);
    const owners = chunkOwners.get(digest) ?? new Set<string>();
    owners.add(versionId);
    chunkOwners.set(digest, owners);
  };
  await Promise.all(
    versions.map((v) =>
      limit(async () => {
        const local = repo.store.readManifestBytes(v.id);
        let bytes = local;
        if (!(await remote.head(keys.version(v.id)))) {
          if (!local) return void broken.add(v.id);
          await remote.put(keys.version(v.id), local);
        }
        bytes ??= (await remote.get(keys.version(v.id)))?.body ?? null;
        if (!bytes) return void broken.add(v.id);
        for (const f of parseManifest(bytes, v.id).files) {
          if (f.size === 0) continue;
          const hasObject = repo.store.hasObject(f.digest);
          if (f.chunk) {
            need(f.chunk, v.id, hasObject ? { object: f.digest, offset: 0, length: f.size } : null);
            continue;
          }
          let chunks: ChunkRef[] | null = fileChunks(repo.db, f.digest);
          const listKey = keys.fileList(f.digest);
          if (!(await remote.head(listKey))) {
            if (!chunks) return void broken.add(v.id);
            const doc: FileList = { format: FORMAT_VERSION, digest: f.digest, size: f.size, chunks: chunks.map((c) => [c.digest, c.length]) };
            await remote.put(listKey, encodeDoc(doc));
          } else if (!chunks) {
            const got = await remote.get(listKey);
            if (!got) return void broken.add(v.id);
            let offset = 0;
            chunks = decodeDoc(fileListSchema, got.body, listKey).chunks.map(([digest, length]) => {
              const c = { digest, offset, length };
              offset += length;
              return c;
            });
          }
          for (const c of chunks) need(c.digest, v.id, hasObject ? { object: f.digest, offset: c.offset, length: c.length } : null);
        }
      }),
    ),
  );
  const wanted = [...chunkSources.keys()];
  let present: Set<string>;
  if (wanted.length > HEAD_LIMIT) {
    present = new Set();
    const wantedSet = new Set(wanted);
    // Names are enough here: a directory remote answers them without a stat per chunk.
    for await (const key of listKeysOf(remote, 'chunks/')) {
      const d = key.slice('chunks/'.length);
      if (wantedSet.has(d)) present.add(d);
    }
  } else {
    const heads = await Promise.all(wanted.map((d) => limit(async () => !!(await remote.head(keys.chunk(d))))));
    present = new Set(wanted.filter((_, i) => heads[i]));
  }
  const missing = wanted.filter((d) => !present.has(d));
  await Promise.all(
    missing.map((d) =>
      limit(async () => {
        const src = chunkSources.get(d);
        if (!src) {
          for (const id of chunkOwners.get(d) ?? []) broken.add(id);
          return;
        }
        const body = readRange(repo.store.objectPath(src.object), src.offset, src.length);
        await remote.put(keys.chunk(d), body, { sha256: Buffer.from(d, 'hex') });
      }),
    ),
  );
  writeTransaction(repo.db, () => rememberRemoteChunks(repo.db, session.remoteId, wanted.filter((d) => present.has(d) || chunkSources.get(d))));
  return broken;
}

/** The IntegrityError for versions whose objects a remote gc removed and this repository cannot restore. */
export function versionsBrokenByGc(session: StoreSession, ids: readonly string[]): IntegrityError {
  return new IntegrityError('REMOTE_OBJECTS_REMOVED', `${ids.length} version(s) need objects a remote gc removed from ${session.displayUrl}, and this repository does not have their bytes`, {
    hint: 'pull them from a remote that still has them (or from the repository that made them), then push again',
    data: { versions: ids },
  });
}
