import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { UsageError, fsError } from '../errors.js';
import { HttpError } from './http-response.js';

/**
 * Who may read from `modelctl serve` (docs/design.md §12). Bound to a loopback address with
 * no token, only this machine can connect, and the Host header must name a loopback host
 * too, so a web page elsewhere cannot reach the registry by pointing a domain it controls at
 * 127.0.0.1 (DNS rebinding). Any other bind needs a bearer token, checked on every API
 * request in constant time, from `Authorization: Bearer …` or the cookie the UI gets when
 * opened once with `?token=…`.
 */

/** The cookie that carries the token for the web UI (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'modelctl_token';

/** What the server checks on each request. */
export interface AccessPolicy {
  /** The bearer token, or null when none is required (loopback only). */
  token: string | null;
  /** True when bound to a loopback address: Host headers must then be loopback names. */
  loopback: boolean;
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.');
  return false;
}

/**
 * The access policy for binding to `host`: a non-loopback bind without a token file is a
 * UsageError (2), so the server never starts open to the network. The token is the file's
 * content, trimmed; one shorter than 16 characters is refused as guessable.
 */
export function accessPolicyFor(host: string, tokenFile: string | undefined): AccessPolicy {
  const loopback = isLoopbackHost(host);
  if (!tokenFile) {
    if (!loopback) {
      throw new UsageError('TOKEN_REQUIRED', `serving on ${host} would open the registry to the network without a token`, {
        hint: 'create a token file (e.g. `openssl rand -hex 32 > serve.token`) and pass --token-file serve.token, or keep the default --host 127.0.0.1',
      });
    }
    return { token: null, loopback };
  }
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw fsError(err, tokenFile);
  }
  if (token.length < 16 || /\s/.test(token)) {
    throw new UsageError('INVALID_TOKEN_FILE', `${tokenFile} must hold one token of at least 16 characters without spaces`, {
      hint: 'make one with `openssl rand -hex 32 > serve.token`',
    });
  }
  return { token, loopback };
}

/** The token a request presents (bearer header, else the UI cookie), or null. */
export function presentedToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : null;
  }
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** True when `given` equals the policy's token (constant time). */
export function tokenMatches(policy: AccessPolicy, given: string | null): boolean {
  if (policy.token === null) return true;
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(policy.token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Refuses a request from a non-loopback Host when bound to loopback without a token (403). */
export function checkHost(req: IncomingMessage, policy: AccessPolicy): void {
  if (!policy.loopback || policy.token !== null) return;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!isLoopbackHost(host)) {
    throw new HttpError(403, 'FORBIDDEN_HOST', `requests must name this machine (localhost or 127.0.0.1), not '${host.slice(0, 100)}'`, {
      hint: 'open http://127.0.0.1:<port>/; to serve others, bind with --host and --token-file',
    });
  }
}

/** Refuses an API request without the right token (401). */
export function checkToken(req: IncomingMessage, policy: AccessPolicy): void {
  if (tokenMatches(policy, presentedToken(req))) return;
  throw new HttpError(401, 'UNAUTHORIZED', 'this server needs a bearer token', {
    hint: 'send `Authorization: Bearer <token>` (curl -H "Authorization: Bearer $(cat serve.token)"), or open the web UI once as /?token=<token>',
    headers: { 'WWW-Authenticate': 'Bearer realm="modelctl"' },
  });
}
