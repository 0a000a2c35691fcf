/**
 * The `modelctl init` question flow, written against a small `Ask` interface so it is a pure
 * function of the answers: the CLI plugs in @inquirer/prompts, tests plug in scripted
 * answers. Every question has a flag; a flag that is given skips its question, and
 * `answersFromFlags` turns the same flags into the same answers without asking, so the
 * wizard and `init --yes …` produce the same files.
 */
import { basename } from 'node:path';
import { isModelName } from '../../core/names.js';
import type { CiProvider, InitOptions, PathPreview, RemoteCheck } from '../../api/init.js';
import type { InitPreset } from '../../workspace/templates.js';
import { formatBytes } from '../format.js';

/** The questions the wizard can ask; each resolves to the answer or rejects when interrupted. */
export interface Ask {
  input(q: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
  select<T extends string>(q: { message: string; choices: { value: T; name: string; description?: string }[]; default?: T }): Promise<T>;
  /** A line of information for the person answering (stderr). */
  note(text: string): void;
}

/** Everything `init` needs to know, whether asked or given as flags. */
export interface InitAnswers {
  template: string;
  /** Null: declare no model now. */
  model: string | null;
  paths: string[];
  params: string | null;
  metrics: string | null;
  data: string[];
  stages: string[];
  remote: string | null;
  endpoint: string | null;
  region: string | null;
  ci: CiProvider;
  npmScripts: boolean;
}

/** The init flags, as commander parses them (every wizard question has one). */
export interface InitFlags {
  yes?: boolean;
  template?: string;
  model?: string;
  paths?: string[];
  params?: string;
  metrics?: string;
  data?: string[];
  stages?: string;
  remote?: string;
  endpoint?: string;
  region?: string;
  ci?: string;
  npmScripts?: boolean;
  remoteCheck?: boolean;
}

/** What the wizard needs from the outside world (injected, so tests need no terminal or network). */
export interface WizardServices {
  root: string;
  presets: InitPreset[];
  /** The defaults a template gives a model (params/metrics only when the file exists). */
  templateDefaults(template: string): { paths: string[]; params?: string; metrics?: string; data?: string[] };
  previewPaths(patterns: string[]): Promise<PathPreview[]>;
  checkRemote(spec: { url: string; endpoint?: string; region?: string }): Promise<RemoteCheck>;
  hasPackageJson: boolean;
}

/** The wizard's answer to "what happened to the remote check", reported by the command. */
export interface WizardOutcome {
  answers: InitAnswers;
  remoteCheck: RemoteCheck | null;
}

const DEFAULT_STAGES_TEXT = 'staging, production';

/** Splits "a, b c" into items on commas and spaces, keeping `{x,y}` glob braces whole. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of text) {
    if (ch === '{') depth++;
    if (ch === '}' && depth > 0) depth--;
    if (depth === 0 && (ch === ',' || /\s/.test(ch))) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** A model name suggested from the folder name ("Fraud Detector" → "fraud-detector"), or "model". */
export function suggestModelName(root: string): string {
  const s = basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/[-.]+$/, '');
  return isModelName(s) ? s : 'model';
}

function stageProblem(text: string): true | string {
  const stages = splitList(text);
  if (stages.length === 0) return 'at least one stage';
  for (const s of stages) if (!/^[a-z][a-z0-9_-]*$/.test(s) || s === 'latest' || /^v[0-9]+$/.test(s)) return `'${s}' is not a stage name (lower-case letters, digits, _ and -)`;
  if (new Set(stages).size !== stages.length) return 'a stage is named twice';
  return true;
}

function ciProvider(value: string | undefined): CiProvider {
  return value === 'github' || value === 'gitlab' ? value : 'none';
}

/**
 * The answers `init --yes` (or a non-interactive init) uses: the flags, and for whatever is
 * not given the same defaults the wizard offers (template `default`; params/metrics files of
 * the template when they exist; stages staging, production; no CI file; npm scripts on).
 * Without --model no model is declared, as before the wizard existed.
 */
export function answersFromFlags(flags: InitFlags, services: Pick<WizardServices, 'templateDefaults'>): InitAnswers {
  const template = flags.template ?? 'default';
  const model = flags.model ?? null;
  const defaults = model ? services.templateDefaults(template) : { paths: [] as string[] };
  return {
    template,
    model,
    paths: model ? (flags.paths?.length ? flags.paths.flatMap(splitList) : defaults.paths) : [],
    params: model ? emptyToNull(flags.params ?? defaults.params) : null,
    metrics: model ? emptyToNull(flags.metrics ?? defaults.metrics) : null,
    data: model ? (flags.data ?? defaults.data ?? []).flatMap(splitList) : [],
    stages: splitList(flags.stages ?? DEFAULT_STAGES_TEXT),
    remote: emptyToNull(flags.remote),
    endpoint: emptyToNull(flags.endpoint),
    region: emptyToNull(flags.region),
    ci: ciProvider(flags.ci),
    npmScripts: flags.npmScripts !== false,
  };
}

function emptyToNull(v: string | undefined | null): string | null {
  return v === undefined || v === null || v.trim() === '' ? null : v.trim();
}

/**
 * Asks what the flags leave open and returns the answers, or null when the person declines
 * at the final confirmation. Given flags are taken as answered. The remote is tested before
 * it is accepted: on failure the person retries, edits the URL, keeps it anyway or drops it.
 */
export async function runInitWizard(ask: Ask, services: WizardServices, flags: InitFlags): Promise<WizardOutcome | null> {
  const template =
    flags.template ??
    (await ask.select({
      message: 'Settings template',
      choices: services.presets.map((p) => ({ value: p.name, name: `${p.name.padEnd(12)} ${p.description}` })),
      default: 'default',
    }));
  const defaults = services.templateDefaults(template);

  let model: string | null = emptyToNull(flags.model);
  if (flags.model === undefined) {
    const name = await ask.input({
      message: 'Model name (empty: declare models later)',
      default: suggestModelName(services.root),
      validate: (v) => v.trim() === '' || isModelName(v.trim()) || 'lower-case letters, digits, ".", "_" and "-", one optional "team/" prefix',
    });
    model = emptyToNull(name);
  }

  let paths: string[] = [];
  let params: string | null = null;
  let metrics: string | null = null;
  let data: string[] = [];
  if (model) {
    if (flags.paths?.length) paths = flags.paths.flatMap(splitList);
    else {
      let suggestion = defaults.paths.join(', ');
      for (;;) {
        const text = await ask.input({
          message: `Files of ${model} (paths, folders, globs)`,
          default: suggestion,
          validate: (v) => splitList(v).length > 0 || 'at least one path',
        });
        paths = splitList(text);
        const preview = await services.previewPaths(paths);
        for (const line of describePreview(preview)) ask.note(line);
        if (preview.every((p) => p.files > 0)) break;
        if (await ask.confirm({ message: 'Some paths match nothing yet (fine if training has not run). Keep them?', default: true })) break;
        suggestion = text;
      }
    }
    params =
      flags.params !== undefined
        ? emptyToNull(flags.params)
        : emptyToNull(await ask.input({ message: 'Params file, JSON or YAML (empty: none)', default: defaults.params ?? '' }));
    metrics =
      flags.metrics !== undefined
        ? emptyToNull(flags.metrics)
        : emptyToNull(await ask.input({ message: 'Metrics file, JSON or YAML (empty: none)', default: defaults.metrics ?? '' }));
    data =
      flags.data !== undefined
        ? flags.data.flatMap(splitList)
        : splitList(await ask.input({ message: 'Training data: files, folders or URIs (empty: none)', default: (defaults.data ?? []).join(', ') }));
  }

  const stages = splitList(
    flags.stages ?? (await ask.input({ message: 'Stages, in promotion order', default: DEFAULT_STAGES_TEXT, validate: stageProblem })),
  );

  let remote: string | null = emptyToNull(flags.remote);
  let endpoint: string | null = emptyToNull(flags.endpoint);
  let region: string | null = emptyToNull(flags.region);
  let remoteCheck: RemoteCheck | null = null;
  if (flags.remote === undefined) {
    remote = emptyToNull(await ask.input({ message: 'Default remote: s3://bucket/prefix or a folder (empty: none for now)', default: '' }));
  }
  let askDetails = true; // endpoint and region are asked once per URL typed, not on a retry
  while (remote) {
    if (!askDetails) {
      /* same URL, same details */
    } else if (remote.startsWith('s3://')) {
      if (flags.endpoint === undefined) endpoint = emptyToNull(await ask.input({ message: 'S3-compatible endpoint URL (empty: AWS)', default: endpoint ?? '' }));
      if (flags.region === undefined) region = emptyToNull(await ask.input({ message: 'Region (empty: from the AWS configuration)', default: region ?? '' }));
    } else {
      endpoint = null;
      region = null;
    }
    askDetails = false;
    if (flags.remoteCheck === false) break;
    ask.note(`Checking ${remote} …`);
    remoteCheck = await services.checkRemote({ url: remote, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) });
    if (remoteCheck.reachable) {
      ask.note(remoteCheck.initialized ? '  reachable: it already holds modelctl versions' : '  reachable: empty so far (the first push sets it up)');
      break;
    }
    ask.note(`  not reachable: ${remoteCheck.problem?.message ?? 'unknown problem'}`);
    if (remoteCheck.problem?.hint) ask.note(`  hint: ${remoteCheck.problem.hint}`);
    const choice = await ask.select({
      message: 'What now?',
      choices: [
        { value: 'retry', name: 'check again' },
        { value: 'edit', name: 'enter another URL' },
        { value: 'keep', name: 'save it anyway (push will report the error)' },
        { value: 'drop', name: 'no remote for now' },
      ],
      default: 'edit',
    });
    if (choice === 'keep') break;
    if (choice === 'drop') {
      remote = endpoint = region = null;
      remoteCheck = null;
      break;
    }
    if (choice === 'edit') {
      remote = emptyToNull(await ask.input({ message: 'Default remote (empty: none for now)', default: remote }));
      askDetails = true;
    }
  }

  const ci = flags.ci !== undefined
    ? ciProvider(flags.ci)
    : await ask.select<CiProvider>({
        message: 'CI pipeline to write',
        choices: [
          { value: 'none', name: 'none' },
          { value: 'github', name: 'GitHub Actions (.github/workflows/modelctl.yml)' },
          { value: 'gitlab', name: 'GitLab CI (.gitlab-ci.yml)' },
        ],
        default: 'none',
      });

  let npmScripts = flags.npmScripts !== false;
  if (flags.npmScripts === undefined && services.hasPackageJson) {
    npmScripts = await ask.confirm({ message: 'Add model:* scripts to package.json?', default: true });
  }

  const answers: InitAnswers = { template, model, paths, params, metrics, data, stages, remote, endpoint, region, ci, npmScripts };
  for (const line of summarize(answers)) ask.note(line);
  if (!(await ask.confirm({ message: 'Create the repository with these settings?', default: true }))) return null;
  return { answers, remoteCheck };
}

/** Lines describing what each pattern matches, for the wizard's preview. */
export function describePreview(preview: readonly PathPreview[]): string[] {
  return preview.map((p) => {
    if (p.files === 0) return `  ${p.pattern}  → ${p.problem ?? 'matches nothing yet'}`;
    const more = p.files > p.sample.length ? `, … ${p.files - p.sample.length} more` : '';
    return `  ${p.pattern}  → ${p.files} file${p.files === 1 ? '' : 's'}, ${formatBytes(p.bytes)} (${p.sample.join(', ')}${more})`;
  });
}

function summarize(a: InitAnswers): string[] {
  const lines = ['', 'modelctl will:'];
  if (a.model) {
    lines.push(`  track ${a.model}: ${a.paths.join(', ')}`);
    if (a.params) lines.push(`    params from ${a.params}`);
    if (a.metrics) lines.push(`    metrics from ${a.metrics}`);
    if (a.data.length) lines.push(`    data ${a.data.join(', ')}`);
  }
  lines.push(`  use the stages ${a.stages.join(' → ')}`);
  if (a.remote) lines.push(`  push to ${a.remote}${a.endpoint ? ` via ${a.endpoint}` : ''}${a.region ? ` (${a.region})` : ''}`);
  if (a.ci !== 'none') lines.push(`  write a ${a.ci === 'github' ? 'GitHub Actions' : 'GitLab CI'} pipeline`);
  lines.push('');
  return lines;
}

/** The api options for a set of answers (one mapping for the wizard and for --yes). */
export function answersToInitOptions(a: InitAnswers, cwd: string): InitOptions {
  return {
    cwd,
    template: a.template,
    models: a.model
      ? {
          [a.model]: {
            paths: a.paths,
            ...(a.params ? { params: a.params } : {}),
            ...(a.metrics ? { metrics: a.metrics } : {}),
            ...(a.data.length ? { data: a.data } : {}),
          },
        }
      : undefined,
    stages: a.stages,
    ...(a.remote ? { remote: a.remote } : {}),
    ...(a.remote && a.endpoint ? { endpoint: a.endpoint } : {}),
    ...(a.remote && a.region ? { region: a.region } : {}),
    ci: a.ci,
    npmScripts: a.npmScripts,
  };
}
