/**
 * Registry credentials found the way the container tools find them (docs/design.md §13):
 * `$REGISTRY_AUTH_FILE` (podman/skopeo), else `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`; per registry a credential helper (`credHelpers`), the default
 * store (`credsStore`), or the inline `auths` entry (`auth` = base64 user:password,
 * `identitytoken`). Credentials are handed to the auth code only: never logged, never put in
 * an error message or a file.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError, isErrnoException } from '../../errors.js';

/** What a registry login holds. */
export type RegistryCredentials =
  | { kind: 'basic'; username: string; password: string; source: string }
  | { kind: 'identity-token'; username: string; token: string; source: string };

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}
interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The config file credentials are read from, as `env` says. */
export function credentialsFile(env: NodeJS.ProcessEnv): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

// Docker Hub is stored under its v1 URL by `docker login`.
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The keys under which `docker login <registry>` may have stored an entry. */
function keysFor(registry: string): string[] {
  if (DOCKER_HUB.has(registry)) return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

function entryKey(key: string): string {
  return key.replace(/^https?:\/\//, '').replace(/\/(v1|v2)?\/?$/, '').toLowerCase();
}

/**
 * The credentials stored for `registry` (`host[:port]`), or null when there are none. A
 * config file that exists but is not JSON is UsageError `INVALID_DOCKER_CONFIG` (2); a
 * helper that fails for another reason than "not found" is reported the same way.
 */
export function findRegistryCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): RegistryCredentials | null {
  const file = credentialsFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let config: AuthFile;
  try {
    config = JSON.parse(text) as AuthFile;
  } catch {
    throw new UsageError('INVALID_DOCKER_CONFIG', `${file} is not valid JSON`, { hint: 'fix it, or log in again with `docker login <host>`' });
  }
  if (typeof config !== 'object' || config === null) return null;
  const keys = keysFor(registry);
  const helper = keys.map((k) => config.credHelpers?.[k]).find((h) => typeof h === 'string') ?? (typeof config.credsStore === 'string' ? config.credsStore : undefined);
  const wanted = new Set(keys.map(entryKey));
  const entry = Object.entries(config.auths ?? {}).find(([k]) => wanted.has(entryKey(k)))?.[1];
  if (entry && typeof entry === 'object') {
    const inline = fromEntry(entry, file);
    if (inline) return inline;
  }
  if (helper) return fromHelper(helper, registry, env);
  return null;
}

function fromEntry(entry: AuthEntry, file: string): RegistryCredentials | null {
  let username = typeof entry.username === 'string' ? entry.username : '';
  let password = typeof entry.password === 'string' ? entry.password : '';
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return { kind: 'identity-token', username, token: entry.identitytoken, source: file };
  }
  if (username !== '' && password !== '') return { kind: 'basic', username, password, source: file };
  return null;
}

function fromHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): RegistryCredentials | null {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) throw new UsageError('INVALID_DOCKER_CONFIG', `credential helper name '${helper}' is not valid`);
  const program = `docker-credential-${helper}`;
  const serverUrl = DOCKER_HUB.has(registry) ? 'https://index.docker.io/v1/' : registry;
  const r = spawnSync(program, ['get'], { input: `${serverUrl}\n`, env, encoding: 'utf8', timeout: 30_000, maxBuffer: 1024 * 1024 });
  if (r.error) {
    if (isErrnoException(r.error, 'ENOENT')) {
      throw new UsageError('CREDENTIAL_HELPER_MISSING', `the Docker config names credential helper '${helper}', but ${program} is not on PATH`, {
        hint: `install ${program}, or remove "${helper}" from ${credentialsFile(env)}`,
      });
    }
    throw new UsageError('CREDENTIAL_HELPER_FAILED', `${program} failed: ${r.error.message}`);
  }
  if (r.status !== 0) {
    // "credentials not found in native keychain": no login for this registry.
    if (/not found/i.test(r.stdout + r.stderr)) return null;
    throw new UsageError('CREDENTIAL_HELPER_FAILED', `${program} get exited with ${r.status}`, { hint: `log in again with \`docker login ${registry}\`` });
  }
  let out: { Username?: unknown; Secret?: unknown };
  try {
    out = JSON.parse(r.stdout) as typeof out;
  } catch {
    throw new UsageError('CREDENTIAL_HELPER_FAILED', `${program} get did not print JSON`);
  }
  const username = typeof out.Username === 'string' ? out.Username : '';
  const secret = typeof out.Secret === 'string' ? out.Secret : '';
  if (secret === '') return null;
  // Docker's convention: the user name "<token>" marks an identity (refresh) token.
  if (username === '<token>') return { kind: 'identity-token', username: '', token: secret, source: program };
  return { kind: 'basic', username, password: secret, source: program };
}
