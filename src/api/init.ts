import { existsSync, mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { readRegularFileSync } from '../store/regular-file.js';
import { dirname, join, resolve } from 'node:path';
import { ModelctlError, UsageError, codeOf, fsError, isErrnoException } from '../errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import { assertModelName, assertStageName, printable } from '../core/names.js';
import { openIndex } from '../store/index-db.js';
import { ObjectStore } from '../store/objects.js';
import { writeFileAtomic } from '../workspace/atomic-file.js';
import { DEFAULT_STAGES, SHARED_CONFIG_FILE, readConfigFileWith, type ConfigFile } from '../workspace/config.js';
import { configSchema, validateConfigFile } from '../workspace/settings-schema.js';
import { META_DIR_NAME, holdsStore, indexLost } from '../workspace/repo-paths.js';
import { parseRemoteUrl } from '../remote/url.js';
import { loadPreset, readTemplate, renderTemplate, type InitPreset, type TemplateContext } from '../workspace/templates.js';
import type { CommonOptions } from './repository.js';

/** Which CI file `init` writes. */
export type CiProvider = 'github' | 'gitlab' | 'none';
/** The CI providers `init --ci` knows, in the order the wizard offers them. */
export const CI_PROVIDERS: readonly CiProvider[] = ['none', 'github', 'gitlab'];

/** Where each CI template lands in the repository. */
export const CI_FILES: Readonly<Record<Exclude<CiProvider, 'none'>, { template: string; path: string }>> = {
  github: { template: 'github-actions.yml', path: '.github/workflows/modelctl.yml' },
  gitlab: { template: 'gitlab-ci.yml', path: '.gitlab-ci.yml' },
};

/** The settings of one model as `modelctl.json` records them. */
export type ModelSettings = NonNullable<ConfigFile['models']>[string];

/** What `init` sets up; every field is optional (an empty object makes a bare repository). */
export interface InitOptions extends CommonOptions {
  /** Remote URL to record as the default remote `origin`. */
  remote?: string;
  /** S3-compatible endpoint of the remote (s3:// remotes only). */
  endpoint?: string;
  /** Region of the remote's bucket (s3:// remotes only). */
  region?: string;
  /** Models to declare in modelctl.json (the wizard and `init --model` fill this). Missing paths come from the template. */
  models?: ConfigFile['models'];
  stages?: string[];
  /** Settings template (`templates/presets/<name>.json`) giving models their default paths; default `default`. */
  template?: string;
  /** CI file to write (never overwriting one that exists); default none. */
  ci?: CiProvider;
  /** Add `model:*` scripts to an existing package.json (missing names only); default true. */
  npmScripts?: boolean;
}

/** One file `init` created, updated or left alone, relative to the repository root. */
export interface InitFileChange {
  path: string;
  action: 'created' | 'updated' | 'unchanged' | 'skipped';
  /** Why a file was skipped or left unchanged. */
  detail?: string;
}

/** What `init` did (the CLI's --json adds the wizard's answers and the remote check). */
export interface InitResult {
  root: string;
  metaDir: string;
  /** False when the repository existed already (init is idempotent). */
  created: boolean;
  configCreated: boolean;
  gitignoreUpdated: boolean;
  /** The settings template used for model defaults. */
  template: string;
  /** Every file init looked at besides `.modelctl/`, in the order it did. */
  files: InitFileChange[];
  /** package.json scripts added (names). */
  npmScripts: string[];
  /** What modelctl.json declares after init (the file found, or the one written): what to suggest next. */
  declared: { models: string[]; stages: string[]; remotes: string[] };
}

/**
 * A model's settings with the gaps filled from a template: paths from the template when none
 * are given; params and metrics files from the template only when that file exists in `root`
 * (a settings file naming an absent file would make every `commit` fail).
 */
export function modelSettingsFromTemplate(root: string, template: string | undefined, given: ModelSettings = {}): ModelSettings {
  const preset: InitPreset = loadPreset(template ?? 'default');
  const out: ModelSettings = { paths: given.paths?.length ? given.paths : preset.paths };
  const params = given.params ?? (preset.params && existsSync(join(root, preset.params)) ? preset.params : undefined);
  const metrics = given.metrics ?? (preset.metrics && existsSync(join(root, preset.metrics)) ? preset.metrics : undefined);
  const data = given.data?.length ? given.data : preset.data;
  if (params) out.params = params;
  if (metrics) out.metrics = metrics;
  if (data?.length) out.data = data;
  return out;
}

/**
 * Creates `.modelctl/` (store folders, index, hooks folder) and, when absent,
 * `modelctl.json` (template `templates/modelctl.json` plus models, stages and remote);
 * adds the `.gitignore` lines in a git work tree, the chosen CI file and `model:*` npm
 * scripts. Safe to run again: nothing existing is replaced, only missing lines and script
 * names are added. Settings are validated before anything is written (UsageError, exit 2).
 */
export function init(opts: InitOptions = {}): InitResult {
  const root = resolve(opts.cwd ?? process.cwd());
  const metaDir = join(root, META_DIR_NAME);
  const template = opts.template ?? 'default';
  const configPath = join(root, SHARED_CONFIG_FILE);
  const existing = existsSync(configPath) ? readConfigFileWith(configPath, validateConfigFile) : null; // a malformed file is reported now, not later
  const config = existing ?? buildConfig(root, opts, template);
  if (opts.ci !== undefined && !CI_PROVIDERS.includes(opts.ci)) {
    throw new UsageError('INVALID_CI', `unknown CI provider '${printable(String(opts.ci))}'`, { hint: `choose one of: ${CI_PROVIDERS.join(', ')}` });
  }

  const created = !existsSync(join(metaDir, 'index.db'));
  // A store whose index was lost: a new empty index would hide its versions.
  if (created && holdsStore(metaDir)) throw indexLost(metaDir, root);
  mkdirSync(join(metaDir, 'hooks'), { recursive: true });
  new ObjectStore(metaDir).ensureLayout();
  openIndex(join(metaDir, 'index.db'), { create: true }).close();

  const files: InitFileChange[] = [];
  let configCreated = false;
  if (!existing) {
    try {
      // Exclusive create: a concurrent init (or an editor) that wrote it first wins.
      writeFileSync(configPath, `${JSON.stringify(JSON.parse(canonicalJson(config)), null, 2)}\n`, { flag: 'wx' });
      configCreated = true;
      files.push({ path: SHARED_CONFIG_FILE, action: 'created' });
    } catch (err) {
      if (!isErrnoException(err, 'EEXIST')) throw fsError(err, configPath);
      files.push({ path: SHARED_CONFIG_FILE, action: 'unchanged', detail: 'exists; left as it is' });
    }
  } else {
    files.push({ path: SHARED_CONFIG_FILE, action: 'unchanged', detail: 'exists; left as it is' });
  }

  const gitignoreUpdated = updateGitignore(root, files);
  const view = templateView(config, opts);
  if (opts.ci && opts.ci !== 'none') files.push(writeCiFile(root, opts.ci, view));
  const npmScripts = opts.npmScripts === false ? [] : addNpmScripts(root, view, files);
  const declared = { models: Object.keys(config.models ?? {}), stages: config.stages ?? DEFAULT_STAGES, remotes: Object.keys(config.remotes ?? {}) };
  return { root, metaDir, created, configCreated, gitignoreUpdated, template, files, npmScripts, declared };
}

/** The modelctl.json of a new repository: the shipped base plus the options, validated. */
function buildConfig(root: string, opts: InitOptions, template: string): ConfigFile {
  const base = configSchema.parse(JSON.parse(readTemplate('modelctl.json')));
  const models: NonNullable<ConfigFile['models']> = {};
  for (const [name, settings] of Object.entries(opts.models ?? {})) {
    assertModelName(name);
    // Only the paths come from the template here: an absent params or metrics file means
    // "none" to the API (the CLI fills those defaults visibly, see modelSettingsFromTemplate).
    models[name] = { ...settings, paths: settings.paths?.length ? settings.paths : loadPreset(template).paths };
  }
  if (!opts.models || Object.keys(opts.models).length === 0) loadPreset(template); // an unknown template fails even without models
  const stages = opts.stages ?? base.stages ?? DEFAULT_STAGES;
  if (stages.length === 0) throw new UsageError('INVALID_STAGES', 'at least one stage is needed', { hint: 'e.g. --stages staging,production' });
  for (const s of stages) assertStageName(s);
  if (new Set(stages).size !== stages.length) throw new UsageError('INVALID_STAGES', `stage names repeat: ${stages.join(', ')}`);
  const config: ConfigFile = { ...base, models: { ...(base.models ?? {}), ...models }, stages, policies: base.policies ?? {} };
  if (opts.remote) {
    const parsedUrl = parseRemoteUrl(opts.remote, { cwd: root }); // a malformed URL fails before anything is written
    if (parsedUrl.kind !== 's3' && (opts.endpoint || opts.region)) {
      throw new UsageError('INVALID_REMOTE_OPTION', '--endpoint and --region only apply to s3:// remotes');
    }
    const remote = { url: opts.remote, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.region ? { region: opts.region } : {}) };
    config.remotes = { origin: remote };
    config.default_remote = 'origin';
  } else if (opts.endpoint || opts.region) {
    throw new UsageError('REMOTE_OPTION_WITHOUT_REMOTE', '--endpoint and --region describe a remote; pass --remote <url> too');
  }
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError('INVALID_SETTINGS', `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The values CI and npm-script templates are rendered with. */
function templateView(config: ConfigFile, opts: InitOptions): TemplateContext {
  const [model, settings] = Object.entries(config.models ?? {})[0] ?? [null, null];
  const stages = config.stages ?? DEFAULT_STAGES;
  const remoteName = config.default_remote ?? Object.keys(config.remotes ?? {})[0];
  const remote = remoteName ? config.remotes?.[remoteName] : undefined;
  const url = remote?.url ?? opts.remote ?? null;
  const endpoint = remote?.endpoint ?? opts.endpoint ?? null;
  const yaml = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar
  return {
    model: model ?? 'my-model',
    hasModel: model !== null,
    paths: settings?.paths?.join(', ') ?? 'model/',
    remote: yaml(url ?? 's3://your-bucket/modelctl'),
    hasRemote: url !== null,
    endpoint: endpoint ? yaml(endpoint) : null,
    region: yaml(remote?.region ?? opts.region ?? 'us-east-1'),
    firstStage: stages[0],
    lastStage: stages[stages.length - 1],
    hasStaging: stages.length > 1,
    nodeVersion: '20',
  };
}

/** True when `dir` or a folder above it holds `.git` (a folder, or a worktree's file). */
function insideGitWorkTree(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

function updateGitignore(root: string, files: InitFileChange[]): boolean {
  // Only in a git work tree (also a subfolder of one, e.g. ml/ in a monorepo, where a
  // .gitignore beside .modelctl/ applies): elsewhere a .gitignore would be clutter.
  if (!insideGitWorkTree(root)) return false;
  const gi = join(root, '.gitignore');
  const current = existsSync(gi) ? readRegularFileSync(gi).toString('utf8') : '';
  const have = new Set(current.split(/\r?\n/).map((l) => normalizeIgnoreLine(l)));
  const lines = readTemplate('gitignore').split(/\r?\n/);
  const missing = lines.filter((l) => l.trim() !== '' && !l.startsWith('#') && !have.has(normalizeIgnoreLine(l)));
  if (missing.length === 0) {
    files.push({ path: '.gitignore', action: 'unchanged' });
    return false;
  }
  // Comments travel with the template's lines; a line already present is not repeated.
  const block = lines.filter((l) => l.startsWith('#') || missing.includes(l)).join('\n').trimEnd();
  appendFileSync(gi, `${current && !current.endsWith('\n') ? '\n' : ''}${block}\n`);
  files.push({ path: '.gitignore', action: current ? 'updated' : 'created' });
  return true;
}

/** `.modelctl`, `.modelctl/` and `/.modelctl/` all ignore the store. */
function normalizeIgnoreLine(line: string): string {
  return line.trim().replace(/^\//, '').replace(/\/$/, '');
}

function writeCiFile(root: string, ci: Exclude<CiProvider, 'none'>, view: TemplateContext): InitFileChange {
  const { template, path } = CI_FILES[ci];
  const abs = join(root, path);
  if (existsSync(abs)) return { path, action: 'skipped', detail: 'exists; left as it is (compare with `modelctl init --ci` in an empty folder)' };
  const text = renderTemplate(readTemplate(template), view, `templates/${template}`);
  mkdirSync(dirname(abs), { recursive: true });
  try {
    writeFileSync(abs, text, { flag: 'wx' });
  } catch (err) {
    if (isErrnoException(err, 'EEXIST')) return { path, action: 'skipped', detail: 'exists; left as it is' };
    throw fsError(err, abs);
  }
  return { path, action: 'created' };
}

/** Adds the template's scripts that package.json lacks; returns their names. */
function addNpmScripts(root: string, view: TemplateContext, files: InitFileChange[]): string[] {
  const pkgPath = join(root, 'package.json');
  if (!existsSync(pkgPath)) return [];
  let text: string;
  try {
    text = readRegularFileSync(pkgPath).toString('utf8');
  } catch (err) {
    throw fsError(err, pkgPath);
  }
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as Record<string, unknown>;
    if (pkg === null || typeof pkg !== 'object' || Array.isArray(pkg)) throw new Error('not an object');
  } catch {
    files.push({ path: 'package.json', action: 'skipped', detail: 'not valid JSON; no scripts added' });
    return [];
  }
  const scripts = (pkg.scripts && typeof pkg.scripts === 'object' && !Array.isArray(pkg.scripts) ? pkg.scripts : {}) as Record<string, unknown>;
  const wanted = JSON.parse(readTemplate('npm-scripts.json')) as Record<string, string>;
  const added: string[] = [];
  for (const [name, command] of Object.entries(wanted)) {
    if (name in scripts) continue;
    // A script about a model needs one: without it the command could not run.
    if (command.includes('{{model}}') && !view.hasModel) continue;
    scripts[name] = renderTemplate(command, view, 'templates/npm-scripts.json');
    added.push(name);
  }
  if (added.length === 0) {
    files.push({ path: 'package.json', action: 'unchanged' });
    return [];
  }
  pkg.scripts = scripts;
  // Keep the file's own indentation and final newline so the diff shows only the scripts.
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  writeFileAtomic(pkgPath, `${JSON.stringify(pkg, null, indent)}${text.endsWith('\n') ? '\n' : ''}`);
  files.push({ path: 'package.json', action: 'updated', detail: `scripts added: ${added.join(', ')}` });
  return added;
}

/** What one path or glob matches now (the wizard's preview). */
export interface PathPreview {
  pattern: string;
  files: number;
  bytes: number;
  /** Up to five matching paths, repository-relative. */
  sample: string[];
  /** Why it matches nothing or cannot be used (outside the repository…), else null. */
  problem: string | null;
}

/**
 * What each path or glob matches under `root` right now (relative to `root`, the way
 * modelctl.json paths are read). Never throws for a pattern: a pattern that matches
 * nothing (training has not run yet) or is unusable is reported in `problem`.
 */
export async function previewPaths(root: string, patterns: readonly string[]): Promise<PathPreview[]> {
  const { selectFiles } = await import('../workspace/file-selection.js');
  const { statSync } = await import('node:fs');
  const out: PathPreview[] = [];
  for (const pattern of patterns) {
    try {
      const files = await selectFiles(root, root, [pattern]);
      let bytes = 0;
      for (const f of files) {
        try {
          bytes += statSync(f.abs).size;
        } catch {
          /* vanished meanwhile: not counted */
        }
      }
      out.push({ pattern, files: files.length, bytes, sample: files.slice(0, 5).map((f) => f.rel), problem: null });
    } catch (err) {
      const code = codeOf(err);
      const problem = code === 'NO_MATCH' || code === 'FILE_NOT_FOUND' ? 'matches nothing yet' : err instanceof Error ? err.message : String(err);
      out.push({ pattern, files: 0, bytes: 0, sample: [], problem });
    }
  }
  return out;
}

/** What a reachability check of a remote found. */
export interface RemoteCheck {
  /** The remote as it is safe to print (credentials removed). */
  displayUrl: string;
  reachable: boolean;
  /** True when the remote already holds a modelctl layout (its MODELCTL.json marker). */
  initialized: boolean;
  /** Why it is not reachable: the error's code, message and hint. */
  problem: { code: string; message: string; hint: string | null } | null;
  elapsedMs: number;
}

/**
 * Tests a remote before it is saved: opens it and reads (HEAD) its format marker, with a
 * timeout. Read-only: nothing is written to the remote. A malformed URL throws UsageError
 * (exit 2); network, credential and permission failures come back as `reachable: false`.
 */
export async function checkRemote(
  spec: { url: string; endpoint?: string; region?: string },
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<RemoteCheck> {
  const { openRemote } = await import('../remote/open-remote.js');
  const started = Date.now();
  const remote = await openRemote(
    { url: spec.url, ...(spec.endpoint ? { endpoint: spec.endpoint } : {}), ...(spec.region ? { region: spec.region } : {}) },
    { cwd: opts.cwd },
  );
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const marker = await Promise.race([
      remote.head('MODELCTL.json'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'TIMEOUT' })), timeoutMs);
        timer.unref();
      }),
    ]);
    return { displayUrl: remote.displayUrl, reachable: true, initialized: marker !== null, problem: null, elapsedMs: Date.now() - started };
  } catch (err) {
    const e = { code: codeOf(err), message: err instanceof Error ? err.message : undefined, hint: err instanceof ModelctlError ? err.hint : undefined };
    return {
      displayUrl: remote.displayUrl,
      reachable: false,
      initialized: false,
      problem: {
        code: e.code ?? 'REMOTE_UNREACHABLE',
        message: e.message ?? String(err),
        hint: e.hint ?? 'check the URL, the network and the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID…)',
      },
      elapsedMs: Date.now() - started,
    };
  } finally {
    if (timer) clearTimeout(timer);
    await remote.close().catch(() => undefined);
  }
}
