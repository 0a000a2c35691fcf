/**
 * What a remote session can do, whatever the remote is (docs/design.md §7, §13): the verbs
 * talk to a session through this, and the session (remote-session.ts) picks the
 * implementation by URL scheme once — the object-store layout of §6 for s3:// and folders,
 * the ModelPack artifacts of §13 for oci:// (sync/oci/). No verb asks which one it has.
 */
import type { ManifestFile } from '../core/manifest.js';
import type { VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import { downloadObjects, type DownloadStats } from './download-objects.js';
import { assertNotRemovedOnRemote, fetchInto, resolvePulledRef, type FetchResult } from './fetch.js';
import { listModels } from './fetch-read.js';
import { pushTo, type PushRequest, type PushResult } from './push.js';
import { openRefPublication, type RefName, type RefPublication } from './ref-publication.js';
import type { StoreSession } from './remote-session.js';
import { restoreManifest } from './restore-manifest.js';
import type { ProgressListener } from './transfer-progress.js';

/** What a fetch is asked for. */
export interface FetchRequest {
  /** One model; default: every model on the remote. */
  model?: string;
  jobs?: number;
  argv?: readonly string[];
}

/** What a download made present in the store: counts, and the objects verified (checkout need not hash them again). */
export interface DownloadOutcome {
  stats: DownloadStats;
  verified: Set<string>;
}

/** The remote protocol behind a session. */
export interface SyncProtocol {
  /** Uploads what the remote lacks, then numbers, tags, stages and events (push). */
  push(repo: Repository, req: PushRequest): Promise<PushResult>;
  /** Brings the remote's versions, tags, stages and events into the index, no file bytes (fetch). */
  fetch(repo: Repository, req: FetchRequest): Promise<FetchResult>;
  /**
   * The version a pull's reference names after `fetch`; a registry may also hold artifacts
   * modelctl did not make, which this imports (downloading their bytes) when the reference
   * names one. NotFoundError (3) when nothing matches.
   */
  resolveForPull(repo: Repository, ref: string, fetched: FetchResult, opts: { jobs?: number; onProgress?: ProgressListener }): Promise<VersionRow>;
  /** Makes `files` of version `versionId` present in the local store, every byte verified. */
  download(repo: Repository, versionId: string, files: readonly ManifestFile[], jobs: number, onProgress?: ProgressListener): Promise<DownloadOutcome>;
  /** Starts a `--push` move of a tag or stage (see ref-publication.ts). */
  openRefPublication(repo: Repository, ref: RefName, versionId: string, argv: readonly string[]): Promise<RefPublication>;
  /** The names of the models the remote holds (for a typo's "did you mean"); rejects when it cannot list them. */
  modelNames(): Promise<string[]>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** The protocol of an object-store remote (s3://, a folder): the remote layout of docs/design.md §6. */
export function storeProtocol(session: StoreSession): SyncProtocol {
  return {
    push: (repo, req) => pushTo(repo, session, req),
    fetch: (repo, req) => fetchInto(repo, session, req),
    // A version the remote removed is refused before any download (docs/design.md §16); a
    // manifest the store lost is brought again.
    resolveForPull: async (repo, ref, fetched) => {
      const v = await resolvePulledRef(repo, session, ref, fetched);
      assertNotRemovedOnRemote(repo, v, fetched);
      await restoreManifest(repo, session, v);
      return v;
    },
    download: (repo, _versionId, files, jobs, onProgress) => downloadObjects(repo, session.remote, files, jobs, onProgress),
    openRefPublication: (repo, ref, versionId, argv) => openRefPublication(repo, session, ref, versionId, argv),
    modelNames: async () => [...(await listModels(session, undefined)).keys()],
    close: () => session.remote.close(),
  };
}
