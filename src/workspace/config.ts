import { join } from 'node:path';
import { readRegularFileSync } from '../store/regular-file.js';
import { NotFoundError, UsageError, fsError, isErrnoException } from '../errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import { parseUntrustedJson } from '../core/untrusted-json.js';
import type { ConfigFile, ModelSettingsEntry, RemoteSettings, StagePolicy } from './settings-schema.js';
import { findRepo } from './repo-paths.js';
import { rememberAccepted, wasAccepted } from './settings-verdicts.js';

export type { ConfigFile, RemoteSettings, StagePolicy } from './settings-schema.js';

/** Name of the shared, committed settings file at the repository root. */
export const SHARED_CONFIG_FILE = 'modelctl.json';
/** Name of the local, uncommitted overrides inside `.modelctl/`. */
export const LOCAL_CONFIG_FILE = 'config.json';

/** Effective settings after precedence: env > .modelctl/config.json > modelctl.json > defaults. */
export interface Settings {
  models: Record<string, ModelSettingsEntry>;
  stages: string[];
  policies: Record<string, StagePolicy>;
  remotes: Record<string, RemoteSettings>;
  defaultRemote: string | null;
  checkoutLink: 'auto' | 'reflink' | 'hardlink' | 'copy';
  /** Update modelctl.lock without --lock. */
  lock: boolean;
  run: { cleanGit: boolean; env: string[] };
  /** `trust.keys`: name → PEM file path (relative to the repository root) or PEM text. */
  trustedKeys: Record<string, string>;
}

export const DEFAULT_STAGES = ['staging', 'production'];

/** Checks parsed settings against the schema (settings-schema.ts's validateConfigFile). */
export type ConfigValidator = (raw: unknown, path: string) => ConfigFile;

/** A settings file's bytes and parsed JSON; absent → null; not JSON → UsageError (exit 2). */
function readRaw(path: string): { bytes: Buffer; raw: unknown } | null {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (err) {
    if (isErrnoException(err, 'ENOENT')) return null;
    throw fsError(err, path);
  }
  try {
    return { bytes, raw: parseUntrustedJson(bytes, path) };
  } catch (err) {
    throw new UsageError('INVALID_CONFIG', (err as Error).message, { hint: `fix the JSON in ${path}` });
  }
}

/**
 * Reads and validates one settings file; absent → {}; malformed → UsageError (exit 2).
 * Validation is as strict as the schema, always; only its cost is saved: when `metaDir`
 * is given and a run of this same build accepted these exact bytes before
 * (settings-verdicts.ts), the schema's verdict is known and the validator is not loaded.
 */
export async function readConfigFile(path: string, metaDir?: string): Promise<ConfigFile> {
  const file = readRaw(path);
  if (!file) return {};
  if (metaDir && wasAccepted(metaDir, file.bytes)) return file.raw as ConfigFile;
  const { validateConfigFile } = await import('./settings-schema.js');
  return accept(validateConfigFile(file.raw, path), file, metaDir);
}

/** readConfigFile for synchronous callers that hold the validator already (init). */
export function readConfigFileWith(path: string, validate: ConfigValidator, metaDir?: string): ConfigFile {
  const file = readRaw(path);
  if (!file) return {};
  if (metaDir && wasAccepted(metaDir, file.bytes)) return file.raw as ConfigFile;
  return accept(validate(file.raw, path), file, metaDir);
}

/**
 * Remembers the verdict only when the schema returned the file's value unchanged, so a
 * later run that skips the schema gets exactly what the schema would have returned.
 */
function accept(value: ConfigFile, file: { bytes: Buffer; raw: unknown }, metaDir: string | undefined): ConfigFile {
  if (metaDir && canonicalJson(value) === canonicalJson(file.raw)) rememberAccepted(metaDir, file.bytes);
  return value;
}

/** `local` over `shared`, setting by setting: plain objects are merged key by key, anything else (arrays too) replaced. */
function mergeLayers<T extends object>(shared: T, local: T): T {
  const out: Record<string, unknown> = { ...(shared as Record<string, unknown>) };
  for (const [key, value] of Object.entries(local as Record<string, unknown>)) {
    const under = out[key];
    out[key] = isPlainObject(under) && isPlainObject(value) ? mergeLayers(under, value) : value;
  }
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges the layers into effective settings. */
export function resolveSettings(shared: ConfigFile, local: ConfigFile, env: NodeJS.ProcessEnv = process.env): Settings {
  const stages = local.stages ?? shared.stages ?? DEFAULT_STAGES;
  const remotes = { ...(shared.remotes ?? {}), ...(local.remotes ?? {}) };
  const defaultRemote = env.MODELCTL_REMOTE || local.default_remote || shared.default_remote || (Object.keys(remotes).length === 1 ? Object.keys(remotes)[0] : null);
  return {
    // Per setting, as `config get` reads them: a local models.face.retention does not hide
    // the shared models.face.paths.
    models: mergeLayers(shared.models ?? {}, local.models ?? {}),
    stages,
    policies: mergeLayers(shared.policies ?? {}, local.policies ?? {}),
    remotes,
    defaultRemote: defaultRemote ?? null,
    checkoutLink: local.checkout?.link ?? shared.checkout?.link ?? 'auto',
    lock: local.lock ?? shared.lock ?? false,
    run: {
      cleanGit: local.run?.clean_git ?? shared.run?.clean_git ?? false,
      env: [...new Set([...(shared.run?.env ?? []), ...(local.run?.env ?? [])])],
    },
    trustedKeys: { ...(shared.trust?.keys ?? {}), ...(local.trust?.keys ?? {}) },
  };
}

/** Loads both layers for a repository. */
export async function loadSettings(root: string, metaDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const [shared, local] = await Promise.all([readConfigFile(join(root, SHARED_CONFIG_FILE), metaDir), readConfigFile(join(metaDir, LOCAL_CONFIG_FILE), metaDir)]);
  return resolveSettings(shared, local, env);
}

/**
 * The settings and root of the repository around `cwd`, or null outside any: for commands
 * that also run without a repository (`--remote` reads, serve/watch caches). Each caller
 * decides what stands in for it then (a modelctl.json above or here, or nothing).
 */
export async function repositorySettings(cwd: string, env: NodeJS.ProcessEnv): Promise<{ settings: Settings; root: string } | null> {
  try {
    const repo = findRepo(cwd, env);
    return { settings: await loadSettings(repo.root, repo.metaDir, env), root: repo.root };
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
