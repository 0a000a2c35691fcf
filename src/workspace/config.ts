import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError, fsError } from '../errors.js';
import { parseUntrustedJson } from '../core/manifest.js';
import { isModelName } from '../core/names.js';
import { describeSettingsIssue } from './settings-issues.js';

/** Name of the shared, committed settings file at the repository root. */
export const SHARED_CONFIG_FILE = 'modelctl.json';
/** Name of the local, uncommitted overrides inside `.modelctl/`. */
export const LOCAL_CONFIG_FILE = 'config.json';

/** A name under `trust.keys` (docs/design.md §11). */
const trustedKeyName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'key names are letters, digits, ".", "_" and "-"');

const modelSettings = z.strictObject({
  paths: z.array(z.string().min(1)).optional(),
  params: z.string().min(1).optional(),
  metrics: z.string().min(1).optional(),
  data: z.array(z.string().min(1)).optional(),
  /** Trusted key names that must have signed every version of this model that is pulled. */
  require_signatures: z.array(trustedKeyName).optional(),
});

const threshold = z.string().regex(/^\s*(>=|<=|==|>|<)\s*-?[0-9.]+(e[+-]?[0-9]+)?\s*$/i, 'must look like ">= 0.92"');

const stagePolicy = z.strictObject({
  from: z.union([z.string(), z.boolean()]).optional(),
  metrics: z.record(z.string(), threshold).optional(),
  clean_git: z.boolean().optional(),
  require_reason: z.boolean().optional(),
  /** Trusted key names that must have signed the version (promote gate; pull verifies). */
  require_signatures: z.array(trustedKeyName).optional(),
});
export type StagePolicy = z.infer<typeof stagePolicy>;

const remoteSettings = z.strictObject({
  url: z.string().min(1),
  endpoint: z.string().optional(),
  region: z.string().optional(),
});
export type RemoteSettings = z.infer<typeof remoteSettings>;

/** `run` settings (docs/design.md §14): refuse a dirty tree, extra environment variables to record. */
const runSettings = z.strictObject({
  clean_git: z.boolean().optional(),
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names only')).max(1000).optional(),
});

/** The settings schema shared by modelctl.json and .modelctl/config.json. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  models: z.record(z.string().refine(isModelName, 'invalid model name'), modelSettings).optional(),
  stages: z.array(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'stage names are lower-case')).min(1).optional(),
  policies: z.record(z.string(), stagePolicy).optional(),
  remotes: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/), remoteSettings).optional(),
  default_remote: z.string().optional(),
  checkout: z.strictObject({ link: z.enum(['auto', 'reflink', 'hardlink', 'copy']).optional() }).optional(),
  /** Keep modelctl.lock up to date on commit, run, checkout, pull and promote (docs/design.md §14). */
  lock: z.boolean().optional(),
  run: runSettings.optional(),
  /** Public keys this repository trusts: name → a PEM file (relative to the repository root) or PEM text. */
  trust: z.strictObject({ keys: z.record(trustedKeyName, z.string().min(1)).optional() }).optional(),
});
export type ConfigFile = z.infer<typeof configSchema>;

/** Effective settings after precedence: env > .modelctl/config.json > modelctl.json > defaults. */
export interface Settings {
  models: Record<string, z.infer<typeof modelSettings>>;
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

/** Reads and validates one settings file; absent → {}; malformed → UsageError (exit 2). */
export function readConfigFile(path: string): ConfigFile {
  if (!existsSync(path)) return {};
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw fsError(err, path);
  }
  let raw: unknown;
  try {
    raw = parseUntrustedJson(bytes, path);
  } catch (err) {
    throw new UsageError('INVALID_CONFIG', (err as Error).message, { hint: `fix the JSON in ${path}` });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError('INVALID_CONFIG', `${path}: ${describeSettingsIssue(parsed.error.issues[0], configSchema)}`, {
      hint: `fix ${path} (see the README's configuration reference)`,
    });
  }
  return parsed.data;
}

/** Merges the layers into effective settings. */
export function resolveSettings(shared: ConfigFile, local: ConfigFile, env: NodeJS.ProcessEnv = process.env): Settings {
  const stages = local.stages ?? shared.stages ?? DEFAULT_STAGES;
  const remotes = { ...(shared.remotes ?? {}), ...(local.remotes ?? {}) };
  const defaultRemote = env.MODELCTL_REMOTE || local.default_remote || shared.default_remote || (Object.keys(remotes).length === 1 ? Object.keys(remotes)[0] : null);
  return {
    models: { ...(shared.models ?? {}), ...(local.models ?? {}) },
    stages,
    policies: { ...(shared.policies ?? {}), ...(local.policies ?? {}) },
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
export function loadSettings(root: string, metaDir: string, env: NodeJS.ProcessEnv = process.env): Settings {
  return resolveSettings(readConfigFile(join(root, SHARED_CONFIG_FILE)), readConfigFile(join(metaDir, LOCAL_CONFIG_FILE)), env);
}
