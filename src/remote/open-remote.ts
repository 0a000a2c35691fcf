/**
 * The one place that turns a configured remote (URL plus endpoint/region overrides) into a
 * Remote, so the AWS SDK is only loaded when an s3:// remote is actually used.
 */
import { UsageError } from '../errors.js';
import { createDirectoryRemote } from './directory.js';
import type { Remote } from './remote.js';
import { formatRemoteUrl, parseRemoteUrl } from './url.js';

/** A remote as configured: its URL and, for S3-compatible stores, endpoint and region. */
export interface RemoteSpec {
  url: string;
  endpoint?: string;
  region?: string;
}

/** Opens the backend `spec.url` names (relative paths resolve against `opts.cwd`); throws UsageError for a bad URL. */
export async function openRemote(spec: RemoteSpec, opts: { cwd?: string } = {}): Promise<Remote> {
  const parsed = parseRemoteUrl(spec.url, opts);
  if (parsed.kind === 'oci') {
    // A registry holds artifacts and tags, not keys: the sync layer talks to it through
    // remote/oci/ (docs/design.md §13). Commands that need a key-value store end here.
    throw new UsageError('OCI_REMOTE_UNSUPPORTED', `${formatRemoteUrl(parsed)} is an OCI registry; this command needs an s3:// or folder remote`, {
      hint: 'push, pull, fetch, ls/log/show --remote and promote/tag --push work with oci:// remotes',
    });
  }
  if (parsed.kind === 'directory') {
    if (spec.endpoint !== undefined || spec.region !== undefined) {
      throw new UsageError('INVALID_REMOTE_OPTION', `--endpoint and --region only apply to s3:// remotes, not ${parsed.path}`);
    }
    return createDirectoryRemote({ root: parsed.path, displayUrl: formatRemoteUrl(parsed) });
  }
  const { openS3Remote } = await import('./s3.js');
  return openS3Remote(parsed, {
    ...(spec.endpoint === undefined ? {} : { endpoint: spec.endpoint }),
    ...(spec.region === undefined ? {} : { region: spec.region }),
  });
}
