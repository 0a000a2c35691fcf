/**
 * `oci://host[:port]/repository` remote URLs (docs/design.md §13). The path is a prefix of
 * OCI repository names: model `fraud` lives in `<prefix>/fraud`, `team/fraud` in
 * `<prefix>/team/fraud`, except that a prefix whose last segment is the model's own name
 * is that model's repository (`oci://ghcr.io/acme/fraud` holds model `fraud`). Pure.
 */
import { UsageError } from '../../errors.js';
import { redactUrl } from '../../core/redact.js';

/** A parsed oci:// URL. */
export interface OciUrlSpec {
  kind: 'oci';
  /** `host` or `host:port`, lower-case, as registries and ~/.docker/config.json name it. */
  registry: string;
  hostname: string;
  port: number | null;
  /** The repository prefix, `/`-separated, no leading or trailing `/`; may be empty. */
  repository: string;
}

// The distribution spec's repository name component (spec L147-175).
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

/** True for a registry host that plain HTTP may be used with without asking: loopback only. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** Parses `oci://host[:port]/repository`; UsageError `INVALID_REMOTE_URL` (2) naming what is wrong. */
export function parseOciUrl(url: string): OciUrlSpec {
  const bad = (why: string, hint?: string) =>
    new UsageError('INVALID_REMOTE_URL', `invalid remote URL ${JSON.stringify(redactUrl(url))}: ${why}`, {
      hint: hint ?? 'expected oci://host[:port]/repository, e.g. oci://ghcr.io/acme/models',
    });
  const rest = url.trim().replace(/^oci:\/\//i, '');
  if (/[?#]/.test(rest)) throw bad('query strings and fragments are not supported');
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  if (authority.includes('@')) {
    throw bad('credentials in the URL are not supported', 'remove them; log in with `docker login <host>` (modelctl reads ~/.docker/config.json or $DOCKER_CONFIG)');
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) throw bad(authority === '' ? 'no registry host' : `"${authority}" is not a host[:port]`);
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535)) throw bad(`port ${port} is out of range`);
  const path = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  const segments = path === '' ? [] : path.split('/');
  for (const s of segments) {
    if (!COMPONENT.test(s)) throw bad(`"${s}" is not a valid repository name component (lower-case letters, digits, and . _ __ - between them)`);
  }
  const hostname = m[1].toLowerCase();
  return { kind: 'oci', registry: port === null ? hostname : `${hostname}:${port}`, hostname, port, repository: segments.join('/') };
}

/** The canonical, credential-free form of an oci:// URL. */
export function formatOciUrl(spec: OciUrlSpec): string {
  return `oci://${spec.registry}${spec.repository ? `/${spec.repository}` : ''}`;
}

/** The OCI repository that holds `model` under the URL's prefix (see the file comment). */
export function repositoryOf(spec: OciUrlSpec, model: string): string {
  if (spec.repository === '') return model;
  if (spec.repository === model || spec.repository.endsWith(`/${model}`)) return spec.repository;
  return `${spec.repository}/${model}`;
}

/**
 * The model a repository holds, or null when it is outside the prefix or its name is not a
 * model name: the inverse of repositoryOf for the names a registry's catalog lists.
 */
export function modelOfRepository(spec: OciUrlSpec, repository: string, isModelName: (s: string) => boolean): string | null {
  if (repository === spec.repository) {
    const last = repository.slice(repository.lastIndexOf('/') + 1);
    return isModelName(last) ? last : null;
  }
  const prefix = spec.repository === '' ? '' : `${spec.repository}/`;
  if (!repository.startsWith(prefix)) return null;
  const model = repository.slice(prefix.length);
  return isModelName(model) && repositoryOf(spec, model) === repository ? model : null;
}
