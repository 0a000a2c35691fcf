/**
 * The protocol of an OCI registry remote (docs/design.md §13), as the verbs see it
 * (sync/protocol.ts): push, fetch, download and --push map onto artifacts and tags; a
 * pull's reference that names no version modelctl pushed may name a foreign artifact by
 * its OCI tag, which is then imported.
 */
import { NotFoundError } from '../../errors.js';
import { resolveFetchedRef, withRemoteModels } from '../fetch.js';
import type { SyncProtocol } from '../protocol.js';
import { downloadFromRegistry } from './oci-download.js';
import { fetchFromRegistry, registryModels } from './oci-fetch.js';
import { importForeignArtifact } from './oci-foreign.js';
import { pushToRegistry } from './oci-push.js';
import { openRegistryRefPublication } from './oci-refs.js';
import type { OciSession } from './oci-session.js';

/** The SyncProtocol of `session`. */
export function ociProtocol(session: OciSession): SyncProtocol {
  return {
    push: (repo, req) => pushToRegistry(repo, session, req),
    fetch: (repo, req) => fetchFromRegistry(repo, session, req),
    async resolveForPull(repo, ref, fetched, opts) {
      try {
        return resolveFetchedRef(repo, ref, fetched);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        const imported = await importForeignArtifact(repo, session, ref, opts);
        if (!imported) throw await withRemoteModels(session.displayUrl, err, () => registryModels(session, []));
        fetched.warnings.push(...imported.warnings);
        return imported.version;
      }
    },
    download: (repo, versionId, files, jobs, onProgress) => downloadFromRegistry(repo, session, versionId, files, jobs, onProgress),
    openRefPublication: (repo, ref, versionId, argv) => openRegistryRefPublication(repo, session, ref, versionId, argv),
    modelNames: () => registryModels(session, []),
    async close() {
      session.client.close();
    },
  };
}
