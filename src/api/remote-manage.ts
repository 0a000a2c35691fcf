import { join } from 'node:path';
import { ConflictError, NotFoundError, UsageError } from '../errors.js';
import { redactUrl } from '../core/redact.js';
import { LOCAL_CONFIG_FILE, SHARED_CONFIG_FILE, loadSettings, readConfigFile } from '../workspace/config.js';
import { findRepo } from '../workspace/repo-paths.js';
import type { CommonOptions } from './repository.js';

export interface RemoteAddOptions extends CommonOptions {
  name: string;
  url: string;
  endpoint?: string;
  region?: string;
  /** Make it the default remote. */
  default?: boolean;
  /** Write .modelctl/config.json (this clone only) instead of modelctl.json (shared). */
  local?: boolean;
  /** Replace an existing remote of that name. */
  force?: boolean;
  /** Write audit events under S3 Object Lock for this long ("7y"; docs/design.md §16). */
  eventsRetention?: string;
  /** oci:// only: plain HTTP to a registry that is not on this machine. */
  plainHttp?: boolean;
}

export interface RemoteEntry {
  name: string;
  url: string;
  endpoint: string | null;
  region: string | null;
  /** oci:// remotes: plain HTTP (set, or implied for a registry on this machine). */
  plainHttp?: boolean;
  default: boolean;
  source: 'shared' | 'local';
}

/** Adds a remote to modelctl.json (or the local config); credentials in the URL are refused. */
export async function remoteAdd(opts: RemoteAddOptions): Promise<RemoteEntry> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(opts.name)) {
    throw new UsageError('INVALID_REMOTE_NAME', `invalid remote name '${opts.name}'`, { hint: 'use letters, digits, ".", "_" and "-"' });
  }
  if (redactUrl(opts.url) !== opts.url || (opts.endpoint && redactUrl(opts.endpoint) !== opts.endpoint)) {
    throw new UsageError('CREDENTIALS_IN_URL', 'remote URLs may not contain credentials', {
      hint: 'use the AWS credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO or an instance role',
    });
  }
  const { parseRemoteUrl } = await import('../remote/url.js');
  const parsed = parseRemoteUrl(opts.url, { cwd: opts.cwd });
  if (parsed.kind !== 's3' && (opts.endpoint || opts.region)) {
    throw new UsageError('INVALID_REMOTE_OPTION', '--endpoint and --region only apply to s3:// remotes');
  }
  if (opts.plainHttp && parsed.kind !== 'oci') {
    throw new UsageError('INVALID_REMOTE_OPTION', '--plain-http only applies to oci:// remotes');
  }
  // Object Lock is an S3 feature: refused here, not halfway through a later push (README, remotes table).
  if (opts.eventsRetention && parsed.kind !== 's3') {
    throw new UsageError('INVALID_REMOTE_OPTION', `--events-retention only applies to s3:// remotes (S3 Object Lock), not ${parsed.kind === 'oci' ? 'an OCI registry' : 'a folder'}`, {
      hint: 'leave it out for this remote; on a folder, protect the events with the file system (a WORM share, snapshots)',
    });
  }
  const { root, metaDir } = findRepo(opts.cwd ?? process.cwd(), opts.env);
  const sharedPath = join(root, SHARED_CONFIG_FILE);
  const localPath = join(metaDir, LOCAL_CONFIG_FILE);
  const path = opts.local ? localPath : sharedPath;
  // Both files as they are (the edited one must be valid before it is edited; the other says
  // where an existing remote and default_remote are written).
  const files = { shared: await readConfigFile(sharedPath, metaDir), local: await readConfigFile(localPath, metaDir) };
  const before = await loadSettings(root, metaDir, {});
  const existing = before.remotes[opts.name];
  if (existing && !opts.force) {
    throw new ConflictError('REMOTE_EXISTS', `remote '${opts.name}' already exists (${redactUrl(existing.url)})`, {
      hint: `remove it first with \`modelctl remote rm ${opts.name}\`, or pass --force`,
    });
  }
  const entry = { url: opts.url, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.region ? { region: opts.region } : {}), ...(opts.plainHttp ? { plain_http: true } : {}), ...(opts.eventsRetention ? { events_retention: opts.eventsRetention } : {}) };
  // A text edit: modelctl.json keeps its key order and formatting (the git diff shows the remote only).
  // The editor validates the edited file with the settings schema (zod): loaded only to write.
  const { editSettingsFile } = await import('../workspace/settings-edit.js');
  editSettingsFile(path, [{ path: ['remotes', opts.name], value: entry }, ...(opts.default ? [{ path: ['default_remote'], value: opts.name }] : [])]);
  // The only remote is the default without being named one ("[default]" when it was added).
  // A second remote would silently end that: the first stays the default, written where it is
  // defined (README, Configuration: default_remote).
  const [only, ...more] = Object.keys(before.remotes);
  if (!opts.default && !existing && only !== undefined && more.length === 0 && !files.shared.default_remote && !files.local.default_remote) {
    editSettingsFile(files.local.remotes?.[only] ? localPath : sharedPath, [{ path: ['default_remote'], value: only }]);
  }
  const settings = await loadSettings(root, metaDir, {});
  return {
    name: opts.name,
    url: opts.url,
    endpoint: opts.endpoint ?? null,
    region: opts.region ?? null,
    ...(opts.plainHttp ? { plainHttp: true } : {}),
    default: settings.defaultRemote === opts.name,
    source: opts.local ? 'local' : 'shared',
  };
}

/** The configured remotes, URLs shown without credentials. */
export async function remoteList(opts: CommonOptions = {}): Promise<{ remotes: RemoteEntry[]; defaultRemote: string | null }> {
  const { root, metaDir } = findRepo(opts.cwd ?? process.cwd(), opts.env);
  const shared = (await readConfigFile(join(root, SHARED_CONFIG_FILE), metaDir)).remotes ?? {};
  const local = (await readConfigFile(join(metaDir, LOCAL_CONFIG_FILE), metaDir)).remotes ?? {};
  const settings = await loadSettings(root, metaDir, opts.env ?? process.env);
  const remotes = Object.entries(settings.remotes)
    .map(([name, r]) => ({
      name,
      url: redactUrl(r.url),
      endpoint: r.endpoint ? redactUrl(r.endpoint) : null,
      region: r.region ?? null,
      ...(r.plain_http ? { plainHttp: true } : {}),
      default: settings.defaultRemote === name,
      source: (name in local ? 'local' : name in shared ? 'shared' : 'shared') as 'shared' | 'local',
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return { remotes, defaultRemote: settings.defaultRemote ? redactUrl(settings.defaultRemote) : null };
}

/** Removes a remote from whichever config file holds it. */
export async function remoteRemove(opts: CommonOptions & { name: string }): Promise<{ name: string; removed: true }> {
  const { root, metaDir } = findRepo(opts.cwd ?? process.cwd(), opts.env);
  let removed = false;
  for (const path of [join(metaDir, LOCAL_CONFIG_FILE), join(root, SHARED_CONFIG_FILE)]) {
    const file = await readConfigFile(path, metaDir);
    if (file.remotes && opts.name in file.remotes) {
      // The editor validates the edited file with the settings schema (zod): loaded only to write.
      const { editSettingsFile } = await import('../workspace/settings-edit.js');
      editSettingsFile(path, [{ path: ['remotes', opts.name], value: undefined }, ...(file.default_remote === opts.name ? [{ path: ['default_remote'], value: undefined }] : [])]);
      removed = true;
    }
  }
  if (!removed) throw new NotFoundError('UNKNOWN_REMOTE', `no remote named '${opts.name}'`, { hint: 'list them with `modelctl remote ls`' });
  return { name: opts.name, removed: true };
}
