/**
 * The registry auth handshake of the distribution spec and Docker's token spec: a request
 * answered `401` with `WWW-Authenticate: Basic realm=…` is repeated with HTTP Basic
 * credentials; one answered `WWW-Authenticate: Bearer realm=…,service=…,scope=…` gets a token
 * from the realm (with the stored credentials, or anonymously) and is repeated with it.
 * Tokens are cached per scope until they expire.
 */
import { RemoteError, UsageError } from '../../errors.js';
import type { RegistryCredentials } from './docker-credentials.js';

/** One parsed `WWW-Authenticate` challenge. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header into challenges (`Bearer realm="…",service="…"`, `Basic realm="…"`). */
export function parseAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const skip = (chars: string) => {
    while (i < header.length && chars.includes(header[i])) i++;
  };
  const token = () => {
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(header.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  let current: AuthChallenge | null = null;
  while (i < header.length) {
    skip(' ,\t');
    const start = i;
    const word = token();
    if (word === '') break;
    skip(' \t');
    if (header[i] === '=' && current) {
      i++;
      skip(' \t');
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i++];
        }
        i++;
      } else {
        value = token();
      }
      current.params[word.toLowerCase()] = value;
    } else if (header[i] === '=' && !current) {
      break; // a parameter before any scheme: not a challenge
    } else {
      i = start + word.length;
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** How a token request is sent: its URL and the headers (the caller does the HTTP). */
export interface TokenRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** The value of an `Authorization: Basic` header. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * The token request for a Bearer challenge and the scopes wanted: GET with Basic
 * credentials (or none), or the OAuth2 refresh-token POST for an identity token. The realm
 * must be https unless plain HTTP is allowed: credentials never travel in clear to a host
 * modelctl was not told to trust.
 */
export function tokenRequest(challenge: AuthChallenge, scopes: readonly string[], credentials: RegistryCredentials | null, plainHttpAllowed: (host: string) => boolean): TokenRequest {
  const realm = challenge.params.realm;
  let url: URL;
  try {
    url = new URL(realm ?? '');
  } catch {
    throw new RemoteError('REGISTRY_AUTH_INVALID', 'the registry asked for a token without a valid realm URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainHttpAllowed(url.hostname))) {
    throw new UsageError('INSECURE_TOKEN_REALM', `the registry's token service ${url.origin} is not https`, {
      hint: 'a registry on another machine must use https for its token service (or configure the remote with --plain-http)',
    });
  }
  const service = challenge.params.service;
  const wanted = [...new Set([...(challenge.params.scope ? challenge.params.scope.split(' ') : []), ...scopes])].filter((s) => s !== '');
  if (credentials?.kind === 'identity-token') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.token, client_id: 'modelctl', ...(service ? { service } : {}) });
    if (wanted.length) form.set('scope', wanted.join(' '));
    return { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() };
  }
  if (service) url.searchParams.set('service', service);
  for (const s of wanted) url.searchParams.append('scope', s);
  const headers: Record<string, string> = {};
  if (credentials?.kind === 'basic') headers.authorization = basicAuthorization(credentials.username, credentials.password);
  return { method: 'GET', url, headers };
}

/** A token from a token service's JSON answer (`token` or `access_token`), with when it expires (ms since the epoch). */
export function parseTokenResponse(body: Buffer, now = Date.now()): { token: string; expiresAt: number } {
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch {
    throw new RemoteError('REGISTRY_AUTH_INVALID', 'the registry token service did not answer JSON');
  }
  const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
  if (!token) throw new RemoteError('REGISTRY_AUTH_INVALID', 'the registry token service answered without a token');
  // The token spec's default lifetime is 60 s; renew 10 s early.
  const seconds = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
  return { token, expiresAt: now + Math.max(5, seconds - 10) * 1000 };
}
