/**
 * An open OCI registry remote (docs/design.md §13): the registry client, one repository per
 * model under the URL's prefix, and the protocol (sync/oci/oci-protocol.ts) the verbs use.
 * Registries have no conditional writes, so the session says so: ref moves there are
 * check-then-set, and every --push names the caveat.
 */
import { RemoteError } from '../../errors.js';
import { formatOciUrl, isLoopbackHost, repositoryOf, type OciUrlSpec } from '../../remote/oci/oci-url.js';
import { RegistryClient } from '../../remote/oci/registry-client.js';
import { RegistryRepository } from '../../remote/oci/registry-repository.js';
import type { SyncProtocol } from '../protocol.js';
import type { SessionBase } from '../remote-session.js';
import { ociProtocol } from './oci-protocol.js';

/** An OCI registry as a remote. */
export interface OciSession extends SessionBase {
  kind: 'oci';
  spec: OciUrlSpec;
  client: RegistryClient;
  /** The registry repository that holds `model`. */
  repository(model: string): RegistryRepository;
}

/** Connections kept per registry (push and pull run up to --jobs requests over them). */
const MAX_SOCKETS = 32;

/**
 * Opens `spec`: plain HTTP only to a loopback host or when the remote is configured with
 * plain_http; checks the registry answers the distribution API (`GET /v2/`: 200, or 401
 * when it wants credentials), RemoteError (7) otherwise.
 */
export async function openOciSession(name: string | null, spec: OciUrlSpec, opts: { plainHttp: boolean; env: NodeJS.ProcessEnv }): Promise<OciSession> {
  const plainHttp = opts.plainHttp || isLoopbackHost(spec.hostname);
  const client = new RegistryClient({ registry: spec.registry, plainHttp, env: opts.env, maxSockets: MAX_SOCKETS });
  const displayUrl = formatOciUrl(spec);
  try {
    const res = await client.request({ method: 'GET', path: '/v2/', scopes: [], expect: [200, 401, 404] });
    if (res.status === 404) {
      throw new RemoteError('NOT_AN_OCI_REGISTRY', `${spec.registry} does not answer the OCI distribution API (GET /v2/ is 404)`, { hint: 'check the host and port of the registry' });
    }
    // Still 401 after the handshake with a login: the login was refused (without one, public
    // repositories may still be readable, so that waits for the first real request).
    const source = client.credentialSource();
    if (res.status === 401 && source !== null) {
      throw new RemoteError('REGISTRY_UNAUTHORIZED', `${spec.registry} refused the credentials from ${source}`, {
        hint: `log in again with \`docker login ${spec.registry}\` (modelctl reads $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json)`,
      });
    }
  } catch (err) {
    client.close();
    throw err;
  }
  const repositories = new Map<string, RegistryRepository>();
  let protocol: SyncProtocol;
  const session: OciSession = {
    kind: 'oci',
    name,
    remoteId: displayUrl,
    displayUrl,
    conditionalWrites: false,
    concurrencyCaveat: `${displayUrl} is an OCI registry, which has no conditional writes: modelctl checks the tag just before it replaces it, so a move someone makes in that moment can be lost (the event log keeps both); see the README, "OCI registries"`,
    spec,
    client,
    repository(model) {
      const repoName = repositoryOf(spec, model);
      let r = repositories.get(repoName);
      if (!r) repositories.set(repoName, (r = new RegistryRepository(client, repoName)));
      return r;
    },
    get protocol() {
      return protocol;
    },
  };
  protocol = ociProtocol(session);
  return session;
}
