/**
 * Remote URLs: `s3://bucket/prefix`, `file:///abs/path`, or a plain (relative, absolute or
 * `~/`) path. Parsing is pure apart from resolving a relative path against `cwd`.
 */
import { homedir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { assertValidKey } from './remote.js';
import { formatOciUrl, parseOciUrl, type OciUrlSpec } from './oci/oci-url.js';

export type { OciUrlSpec } from './oci/oci-url.js';

/** An S3 (or S3-compatible) bucket and the key prefix under which the remote layout lives. */
export interface S3UrlSpec {
  kind: 's3';
  bucket: string;
  /** '' or a `/`-terminated key prefix without a leading `/`. */
  prefix: string;
}

/** A folder (local, or a mounted share) holding the remote layout. */
export interface DirectoryUrlSpec {
  kind: 'directory';
  /** Absolute path. */
  path: string;
}

/** A parsed remote URL. An OCI registry (oci://) is not an object store: see remote/oci/. */
export type RemoteUrlSpec = S3UrlSpec | DirectoryUrlSpec | OciUrlSpec;

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;
// Lenient on purpose: S3-compatible stores (RGW, MinIO) accept names AWS would refuse.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Parses a remote URL or path into a typed spec; throws UsageError `INVALID_REMOTE_URL` naming what is wrong. */
export function parseRemoteUrl(url: string, opts: { cwd?: string } = {}): RemoteUrlSpec {
  const trimmed = url.trim();
  if (trimmed === '') throw invalidUrl(url, 'empty');
  if (trimmed.includes('\0')) throw invalidUrl(url, 'contains NUL');
  const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const meant = mistypedUrlSuggestion(trimmed);
    if (meant !== null) {
      throw new UsageError('INVALID_REMOTE_URL', `invalid remote URL ${JSON.stringify(redactUrl(trimmed))}: did you mean ${redactUrl(meant)}?`, {
        hint: `a URL's scheme is followed by "://"; for a folder whose name really starts like that, write ./${redactUrl(trimmed)}`,
        data: { suggestion: redactUrl(meant) },
      });
    }
    return { kind: 'directory', path: resolvePath(trimmed, opts.cwd) };
  }
  if (scheme === 's3') return parseS3Url(trimmed);
  if (scheme === 'file') return parseFileUrl(trimmed);
  if (scheme === 'oci') return parseOciUrl(trimmed);
  const hint = scheme === 'http' || scheme === 'https'
    ? `for an S3-compatible server use s3://<bucket>/<prefix> with --endpoint ${endpointOf(trimmed)}`
    : 'use s3://bucket/prefix, oci://host/repository, a folder path, or file:///absolute/folder';
  throw new UsageError('UNSUPPORTED_REMOTE_URL', `unsupported remote URL scheme "${scheme}://" in ${redactUrl(trimmed)}`, { hint });
}

/** Schemes people type for remotes; `s3//bucket` is only taken for a typo with one of these. */
const KNOWN_SCHEMES = ['s3', 'file', 'http', 'https', 'gs', 'az', 'oci'];

/**
 * The URL a string shaped like one was meant to be (`s3:/bucket/x`, `s3//bucket`,
 * `s3:bucket` → `s3://bucket/x`…), or null when it is a plain path. Anything that starts
 * with a scheme-like word and a colon (two letters or more, so `C:\` stays a path), or with
 * a known scheme name and `//`, is shaped like a URL; taking it as a folder would write the
 * registry into `./s3:/…` in the work tree.
 */
export function mistypedUrlSuggestion(s: string): string | null {
  if (SCHEME.test(s)) return null;
  const colon = /^([a-zA-Z][a-zA-Z0-9+.-]+):\/*(.*)$/.exec(s);
  const slashes = colon ? null : /^([a-zA-Z][a-zA-Z0-9+.-]*)\/\/+(.*)$/.exec(s);
  const m = colon ?? (slashes && KNOWN_SCHEMES.includes(slashes[1].toLowerCase()) ? slashes : null);
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  return scheme === 'file' ? `file:///${rest.replace(/^\/+/, '')}` : `${scheme}://${rest}`;
}

function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<url>';
  }
}

function parseS3Url(url: string): S3UrlSpec {
  const rest = url.slice('s3://'.length);
  if (/[?#]/.test(rest)) throw invalidUrl(url, 'query strings and fragments are not supported');
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  if (authority.includes('@')) {
    throw new UsageError('INVALID_REMOTE_URL', `credentials in remote URL ${redactUrl(url)} are not supported`, {
      hint: 'remove them from the URL; use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or another AWS credential source',
    });
  }
  if (authority === '' && /^\/+[^/]/.test(rest)) throw invalidUrl(url, `no bucket name: did you mean s3://${rest.replace(/^\/+/, '')}?`);
  if (!BUCKET.test(authority)) throw invalidUrl(url, `"${authority}" is not a bucket name`);
  const rawPrefix = slash === -1 ? '' : rest.slice(slash + 1);
  const parts = rawPrefix.split('/').filter((p) => p !== '');
  let prefix = '';
  if (parts.length > 0) {
    const joined = parts.join('/');
    try {
      assertValidKey(joined);
    } catch {
      throw invalidUrl(url, `"${rawPrefix}" is not a valid key prefix (no "..", ".", backslash or control characters)`);
    }
    prefix = joined + '/';
  }
  return { kind: 's3', bucket: authority, prefix };
}

function parseFileUrl(url: string): DirectoryUrlSpec {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(url, 'malformed file URL');
  }
  if (parsed.hostname !== '' && parsed.hostname !== 'localhost') {
    throw invalidUrl(url, `file URLs on another host ("${parsed.hostname}") are not supported; mount the share and use its path`);
  }
  if (parsed.search !== '' || parsed.hash !== '') throw invalidUrl(url, 'query strings and fragments are not supported');
  try {
    return { kind: 'directory', path: path.resolve(fileURLToPath(parsed)) };
  } catch (err) {
    throw invalidUrl(url, err instanceof Error ? err.message : String(err));
  }
}

function resolvePath(p: string, cwd: string | undefined): string {
  if (p === '~' || p.startsWith('~/')) return path.join(homedir(), p.slice(1));
  return path.resolve(cwd ?? process.cwd(), p);
}

function invalidUrl(url: string, reason: string): UsageError {
  return new UsageError('INVALID_REMOTE_URL', `invalid remote URL ${JSON.stringify(redactUrl(url))}: ${reason}`, {
    hint: 'expected s3://bucket/prefix, oci://host/repository, a folder path, or file:///absolute/folder',
  });
}

export { redactUrl } from '../core/redact.js';
import { redactUrl } from '../core/redact.js';

/** The canonical, credential-free display form of a parsed remote URL. */
export function formatRemoteUrl(spec: RemoteUrlSpec): string {
  if (spec.kind === 's3') return `s3://${spec.bucket}${spec.prefix === '' ? '' : '/' + spec.prefix.slice(0, -1)}`;
  if (spec.kind === 'oci') return formatOciUrl(spec);
  return spec.path;
}
