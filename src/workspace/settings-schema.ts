import * as z from 'zod';
import { UsageError } from '../errors.js';
import { isModelName } from '../core/names.js';
import { describeSettingsIssue } from './settings-issues.js';

// The one definition of what a settings file may hold. config.ts loads this module only when
// a settings file has bytes no earlier run of this build accepted (settings-verdicts.ts), so
// commands that read known settings do not load zod.

/** A name under `trust.keys` (docs/design.md §11). */
const trustedKeyName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'key names are letters, digits, ".", "_" and "-"');

const modelSettings = z.strictObject({
  paths: z.array(z.string().min(1)).optional(),
  params: z.string().min(1).optional(),
  metrics: z.string().min(1).optional(),
  data: z.array(z.string().min(1)).optional(),
  /** Trusted key names that must have signed every version of this model that is pulled. */
  require_signatures: z.array(trustedKeyName).optional(),
  /** What remote gc may let go (docs/design.md §16); absent: nothing. */
  retention: z
    .strictObject({
      keep_last: z.number().int().nonnegative().optional(),
      keep_newer_than: z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|y)?$/i, 'must look like "30d", "12h" or "2w"').optional(),
      keep_ever_held: z.array(z.string()).optional(),
    })
    .refine((r) => r.keep_last !== undefined || r.keep_newer_than !== undefined, 'name keep_last or keep_newer_than (or both)')
    .optional(),
});
export type ModelSettingsEntry = z.infer<typeof modelSettings>;

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
  /** oci:// only: talk plain HTTP to a registry that is not on this machine (docs/design.md §13). */
  plain_http: z.boolean().optional(),
  /** Write audit events under S3 Object Lock for this long ("7y"); refused where the bucket has no lock (docs/design.md §16). */
  events_retention: z.string().regex(/^\d+\s*(d|w|y)$/i, 'must look like "90d", "52w" or "7y"').optional(),
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

/** Checks the parsed JSON of settings file `path` against the schema; UsageError (exit 2) naming the key otherwise. */
export function validateConfigFile(raw: unknown, path: string): ConfigFile {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError('INVALID_CONFIG', `${path}: ${describeSettingsIssue(parsed.error.issues[0], configSchema)}`, {
      hint: `fix ${path} (see the README's configuration reference)`,
    });
  }
  return parsed.data;
}
