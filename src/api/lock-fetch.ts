import { NotFoundError } from '../errors.js';
import { redactUrl } from '../core/redact.js';
import { getVersion } from '../store/version-records.js';
import { openRemoteSession, type RemoteSession } from '../sync/remote-session.js';
import { jobsOrDefault } from '../sync/transfer-progress.js';
import { readVersionManifest } from './read-manifest.js';
import type { Repository } from './repository.js';

/** A locked version this repository lacks (metadata or bytes). */
export interface MissingLocked {
  model: string;
  version: string;
  number: number;
}

/** What fetching the missing locked versions did. */
export interface LockedFetch {
  remote: string;
  versions: string[];
  bytesDownloaded: number;
  /** Objects verified on arrival (checkout need not hash them again). */
  verified: Set<string>;
}

/**
 * Brings the locked versions this repository lacks from a remote (the default one unless
 * named): their models' metadata, then the missing chunks of their files, each verified. With
 * no remote configured, or a version the remote lacks too → NotFoundError (3) naming the
 * versions and the remotes searched.
 */
export async function fetchLockedVersions(repo: Repository, missing: readonly MissingLocked[], remoteName: string | undefined, jobs?: number): Promise<LockedFetch> {
  const shown = missing.map((m) => `${m.model}@v${m.number} (${m.version.slice(0, 12)})`).join(', ');
  const wanted = remoteName ?? repo.settings.defaultRemote ?? undefined;
  if (!wanted) {
    throw new NotFoundError('LOCKED_VERSION_MISSING', `modelctl.lock names ${shown}, which this repository lacks; remotes searched: none (no remote is configured)`, {
      hint: 'add the registry it was pushed to (`modelctl remote add origin <url> --default`) and run `modelctl checkout` again',
      data: { versions: missing.map((m) => m.version), remotes: [] },
    });
  }
  let session: RemoteSession;
  try {
    session = await openRemoteSession(repo.settings, repo.root, { remote: wanted }, { create: false, db: repo.db, env: repo.env });
  } catch (err) {
    // A registry nothing was pushed to yet holds no version at all.
    if (!(err instanceof NotFoundError && err.code === 'NOT_A_REGISTRY')) throw err;
    const url = redactUrl(repo.settings.remotes[wanted]?.url ?? wanted);
    throw new NotFoundError('LOCKED_VERSION_MISSING', `modelctl.lock names ${shown}, which neither this repository nor its remote has; remotes searched: ${url} (nothing was pushed there yet)`, {
      hint: 'push it from the clone that made it (`modelctl push`), then run `modelctl checkout` again',
      data: { versions: missing.map((m) => m.version), remotes: [url] },
    });
  }
  try {
    const n = jobsOrDefault(jobs);
    for (const model of new Set(missing.map((m) => m.model))) await session.protocol.fetch(repo, { model, jobs: n });
    const absent = missing.filter((m) => !getVersion(repo.db, m.version));
    if (absent.length) {
      const names = absent.map((m) => `${m.model}@v${m.number} (${m.version.slice(0, 12)})`).join(', ');
      throw new NotFoundError('LOCKED_VERSION_MISSING', `modelctl.lock names ${names}, which neither this repository nor its remote has; remotes searched: ${session.displayUrl}`, {
        hint: 'push it from the clone that made it (`modelctl push`), or lock a version that exists (`modelctl checkout <model>@<ref> --lock`)',
        data: { versions: absent.map((m) => m.version), remotes: [session.displayUrl] },
      });
    }
    const verified = new Set<string>();
    let bytesDownloaded = 0;
    for (const m of missing) {
      const got = await session.protocol.download(repo, m.version, readVersionManifest(repo, m.version).files, n);
      for (const d of got.verified) verified.add(d);
      bytesDownloaded += got.stats.bytesDownloaded;
    }
    return { remote: session.displayUrl, versions: missing.map((m) => m.version), bytesDownloaded, verified };
  } finally {
    await session.protocol.close();
  }
}
