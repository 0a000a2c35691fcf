import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { assertPoliciesNameStages } from '../core/policy.js';
import { NotFoundError, UsageError } from '../errors.js';
import { LOCAL_CONFIG_FILE, SHARED_CONFIG_FILE, loadSettings, readConfigFile, resolveSettings, type ConfigFile, type Settings } from '../workspace/config.js';
import { writeFileAtomic } from '../workspace/atomic-file.js';
import { findRepo } from '../workspace/repo-paths.js';
import { unknownSettingSentence } from '../workspace/settings-issues.js';
import { redactUrl, redactUrlsInText } from '../core/redact.js';
import type { CommonOptions } from './repository.js';

export type ConfigSource = 'env' | 'local' | 'shared' | 'default';

export interface ConfigEntry {
  key: string;
  value: unknown;
  source: ConfigSource;
}

/** Every setting with where it comes from (env > .modelctl/config.json > modelctl.json > defaults). */
export async function configList(opts: CommonOptions = {}): Promise<{ entries: ConfigEntry[] }> {
  const { shared, local, env } = await layers(opts);
  const entries = new Map<string, ConfigEntry>();
  const defaults = resolveSettings({}, {}, {});
  entries.set('stages', { key: 'stages', value: defaults.stages, source: 'default' });
  entries.set('checkout.link', { key: 'checkout.link', value: defaults.checkoutLink, source: 'default' });
  for (const [layer, source] of [[shared, 'shared'], [local, 'local']] as const) {
    for (const [key, value] of flatten(layer as Record<string, unknown>)) entries.set(key, { key, value: redact(key, value), source });
  }
  if (env.MODELCTL_REMOTE) entries.set('default_remote', { key: 'default_remote', value: redactUrl(env.MODELCTL_REMOTE), source: 'env' });
  return { entries: [...entries.values()].sort((a, b) => (a.key < b.key ? -1 : 1)) };
}

/** One setting's effective value; NotFoundError (3) when unset. */
export async function configGet(opts: CommonOptions & { key: string }): Promise<ConfigEntry> {
  const { entries } = await configList(opts);
  const exact = entries.find((e) => e.key === opts.key);
  if (exact) return exact;
  const under = entries.filter((e) => e.key.startsWith(`${opts.key}.`));
  if (under.length) {
    const value: Record<string, unknown> = {};
    for (const e of under) value[e.key.slice(opts.key.length + 1)] = e.value;
    return { key: opts.key, value, source: under[0].source };
  }
  const { configSchema } = await import('../workspace/settings-schema.js');
  const unknown = unknownSettingSentence(opts.key, configSchema);
  if (unknown) throw new NotFoundError('UNKNOWN_SETTING', unknown, { hint: 'list settings with `modelctl config ls`' });
  throw new NotFoundError('UNKNOWN_SETTING', `setting '${opts.key}' is not set`, { hint: `set it with \`modelctl config set ${opts.key} <value>\`` });
}

/**
 * Sets a dotted key in .modelctl/config.json (or modelctl.json with `shared`). The value
 * is parsed as JSON when it is JSON (numbers, booleans, arrays), else kept as a string;
 * the file is validated as a whole before it is written (atomically).
 */
export async function configSet(opts: CommonOptions & { key: string; value: string; shared?: boolean; unset?: boolean }): Promise<ConfigEntry> {
  const { root, metaDir } = findRepo(opts.cwd ?? process.cwd(), opts.env);
  const path = opts.shared ? join(root, SHARED_CONFIG_FILE) : join(metaDir, LOCAL_CONFIG_FILE);
  await readConfigFile(path, metaDir); // the file as it is must be valid before it is edited
  const { configSchema } = await import('../workspace/settings-schema.js');
  const parts = opts.key.split('.');
  if (parts.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
    throw new UsageError('INVALID_SETTING', `invalid setting name '${opts.key}'`, { hint: 'settings are dotted names such as checkout.link or remotes.origin.url' });
  }
  const unknown = unknownSettingSentence(opts.key, configSchema);
  if (unknown) throw new UsageError('UNKNOWN_SETTING', unknown, { hint: 'list settings with `modelctl config ls`' });
  let value: unknown = opts.value;
  try {
    value = JSON.parse(opts.value);
  } catch {
    /* a plain string */
  }
  // The rule of `remote add`, for every setting: credentials never go into a file of modelctl's.
  if (!opts.unset && holdsCredentials(value)) {
    throw new UsageError('CREDENTIALS_IN_URL', `${opts.key}: URLs in settings may not contain credentials (user:password@, tokens or signatures)`, {
      hint: 'use the AWS credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO or an instance role',
    });
  }
  // A remote URL is checked as `remote add` checks it (a mistyped s3:/bucket is exit 2).
  if (!opts.unset && parts[0] === 'remotes' && parts.length === 3 && parts[2] === 'url' && typeof value === 'string') {
    const { mistypedUrlSuggestion, parseRemoteUrl } = await import('../remote/url.js');
    if (mistypedUrlSuggestion(value.trim()) !== null) parseRemoteUrl(value, { cwd: root });
  }
  // The editor validates the edited file with the settings schema (zod): loaded only to write.
  const { editSettingsFile } = await import('../workspace/settings-edit.js');
  const before = readOrNull(path);
  editSettingsFile(path, [{ path: parts, value: opts.unset ? undefined : value }]);
  try {
    assertCoherent(await loadSettings(root, metaDir, {}), parts[0]);
  } catch (err) {
    // The setting would break later commands (a promote, a push): the file goes back as it was.
    if (before === null) unlinkSync(path);
    else writeFileAtomic(path, before);
    throw err;
  }
  return { key: opts.key, value: opts.unset ? null : redact(opts.key, value), source: opts.shared ? 'shared' : 'local' };
}

function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/**
 * The checks across settings that the schema of one file cannot make, for the part just set:
 * stages named once each, policies only for configured stages, a default remote that exists.
 * Each would otherwise surface later as a refused promote or push far from its cause.
 */
function assertCoherent(settings: Settings, top: string): void {
  if (top === 'stages') {
    const twice = settings.stages.find((s, i) => settings.stages.indexOf(s) !== i);
    if (twice !== undefined) throw new UsageError('INVALID_SETTING', `stages names '${twice}' twice`, { hint: 'list each stage once, in promotion order' });
  }
  if (top === 'stages' || top === 'policies') assertPoliciesNameStages(settings.policies, settings.stages);
  if (top === 'default_remote' && settings.defaultRemote !== null && !(settings.defaultRemote in settings.remotes)) {
    throw new UsageError('INVALID_SETTING', `default_remote names '${settings.defaultRemote}', which is no configured remote`, {
      hint: 'add it first with `modelctl remote add <name> <url>` (list them with `modelctl remote ls`)',
    });
  }
}

async function layers(opts: CommonOptions): Promise<{ shared: ConfigFile; local: ConfigFile; env: NodeJS.ProcessEnv }> {
  const { root, metaDir } = findRepo(opts.cwd ?? process.cwd(), opts.env);
  const [shared, local] = await Promise.all([readConfigFile(join(root, SHARED_CONFIG_FILE), metaDir), readConfigFile(join(metaDir, LOCAL_CONFIG_FILE), metaDir)]);
  return { shared, local, env: opts.env ?? process.env };
}

function* flatten(obj: Record<string, unknown>, prefix = ''): Generator<[string, unknown]> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) yield* flatten(v as Record<string, unknown>, key);
    else yield [key, v];
  }
}

/** True when a value (or any string inside it) holds a URL with userinfo or a secret query parameter. */
function holdsCredentials(value: unknown): boolean {
  if (typeof value === 'string') return redactUrlsInText(value) !== value;
  if (Array.isArray(value)) return value.some(holdsCredentials);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsCredentials);
  return false;
}

function redact(key: string, value: unknown): unknown {
  return typeof value === 'string' && (key.endsWith('.url') || key.endsWith('.endpoint')) ? redactUrl(value) : value;
}
