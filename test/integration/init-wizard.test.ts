import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkRemote, init, modelSettingsFromTemplate, previewPaths, type RemoteCheck } from '../../src/api/init.js';
import { answersFromFlags, answersToInitOptions, runInitWizard, splitList, suggestModelName, type Ask, type InitFlags, type WizardServices } from '../../src/cli/wizard/init-wizard.js';
import { listPresets, renderTemplate } from '../../src/workspace/templates.js';
import { BIN, cliEnv, runCli, tempDir, writeFile } from '../helpers/temp-repo.js';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

/** Scripted answers: each question must match the next pattern, in order; notes are kept. */
function scripted(script: [RegExp, string | boolean][]): Ask & { notes: string[]; asked: string[]; done(): void } {
  const queue = [...script];
  const notes: string[] = [];
  const asked: string[] = [];
  const next = (message: string): string | boolean => {
    asked.push(message);
    const step = queue.shift();
    if (!step) throw new Error(`unexpected question: ${message}`);
    if (!step[0].test(message)) throw new Error(`expected a question matching ${step[0]}, got: ${message}`);
    return step[1];
  };
  return {
    notes,
    asked,
    async input(q) {
      const a = next(q.message);
      const value = a === '' || a === true ? (q.default ?? '') : String(a); // true/'' = accept the default
      const ok = q.validate ? q.validate(value) : true;
      if (ok !== true) throw new Error(`answer '${value}' refused: ${ok}`);
      return value;
    },
    async confirm(q) {
      const a = next(q.message);
      return typeof a === 'boolean' ? a : (q.default ?? false);
    },
    async select(q) {
      const a = next(q.message);
      const value = a === true ? q.default : a;
      if (!q.choices.some((c) => c.value === value)) throw new Error(`'${String(value)}' is not a choice of ${q.message}`);
      return value as never;
    },
    note(text) {
      notes.push(text);
    },
    done() {
      if (queue.length) throw new Error(`questions not asked: ${queue.map((s) => s[0]).join(', ')}`);
    },
  };
}

function services(root: string, remote?: (spec: { url: string }) => Promise<RemoteCheck>): WizardServices {
  return {
    root,
    presets: listPresets(),
    templateDefaults: (t) => {
      const s = modelSettingsFromTemplate(root, t);
      return { paths: s.paths ?? [], params: s.params, metrics: s.metrics, data: s.data };
    },
    previewPaths: (p) => previewPaths(root, p),
    checkRemote: remote ?? ((spec) => checkRemote(spec, { cwd: root })),
    hasPackageJson: existsSync(join(root, 'package.json')),
  };
}

/** A training folder: a git work tree, a package.json, checkpoints and a params file. */
function trainingFolder(name = 'Fraud Detector'): string {
  const d = join(tempDir(), name);
  mkdirSync(d);
  execFileSync('git', ['init', '-q'], { cwd: d });
  writeFile(d, 'package.json', '{\n    "name": "train",\n    "scripts": {\n        "test": "vitest",\n        "model:push": "custom push"\n    }\n}\n');
  writeFile(d, 'checkpoints/epoch-10.pt', 'weights');
  writeFile(d, 'checkpoints/best.safetensors', 'safe weights');
  writeFile(d, 'params.yaml', 'lr: 0.01\n');
  writeFile(d, 'eval/metrics.json', '{"auc": 0.97}');
  writeFile(d, 'data/train.csv', 'a,b\n');
  return d;
}

/** Every file init may write, with its content (absent files as null). */
function written(root: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const f of ['modelctl.json', '.gitignore', 'package.json', '.github/workflows/modelctl.yml', '.gitlab-ci.yml']) {
    out[f] = existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : null;
  }
  out['.modelctl'] = existsSync(join(root, '.modelctl', 'index.db')) ? 'present' : null;
  return out;
}

/** Runs the wizard with scripted answers and writes what it answered, as the CLI does. */
async function wizardInit(root: string, ask: ReturnType<typeof scripted>, flags: InitFlags = {}, svc = services(root)) {
  const outcome = await runInitWizard(ask, svc, flags);
  ask.done();
  if (!outcome) return null;
  init(answersToInitOptions(outcome.answers, root));
  return outcome;
}

describe('init wizard and its --yes twin', () => {
  it('the wizard and `init --yes` with the same answers as flags write the same files', async () => {
    const remoteDir = join(tempDir(), 'registry');
    const a = trainingFolder();
    const ask = scripted([
      [/template/i, 'pytorch'],
      [/Model name/, 'fraud'],
      [/Files of fraud/, true], // the template's glob, previewed
      [/Params file/, true], // params.yaml exists: offered as the default
      [/Metrics file/, 'eval/metrics.json'],
      [/Training data/, 'data/train.csv'],
      [/Stages/, 'dev, staging, production'],
      [/Default remote/, remoteDir],
      [/CI pipeline/, 'github'],
      [/package.json/, true],
      [/Create the repository/, true],
    ]);
    const outcome = await wizardInit(a, ask);
    expect(outcome?.remoteCheck?.reachable).toBe(true);
    // The glob preview showed what the template's pattern matches.
    expect(ask.notes.join('\n')).toMatch(/checkpoints\/\*\.\{pt,pth,safetensors\}\s+→ 2 files/);

    const b = trainingFolder();
    const r = runCli(b, [
      'init', '--yes', '--template', 'pytorch', '--model', 'fraud', '--metrics', 'eval/metrics.json', '--data', 'data/train.csv',
      '--stages', 'dev,staging,production', '--remote', remoteDir, '--ci', 'github', '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(written(b)).toEqual(written(a));

    const files = written(a);
    expect(JSON.parse(files['modelctl.json'] as string)).toEqual({
      default_remote: 'origin',
      models: { fraud: { data: ['data/train.csv'], metrics: 'eval/metrics.json', params: 'params.yaml', paths: ['checkpoints/*.{pt,pth,safetensors}'] } },
      policies: {},
      remotes: { origin: { url: remoteDir } },
      stages: ['dev', 'staging', 'production'],
    });
    const pkg = JSON.parse(files['package.json'] as string);
    expect(pkg.scripts['model:push']).toBe('custom push'); // never overwritten
    expect(pkg.scripts['model:commit']).toBe('modelctl commit fraud');
    expect(files['package.json']).toMatch(/^ {4}"name"/m); // the file's own indentation kept
    expect(files['.gitignore']).toMatch(/^\.modelctl\/$/m);
    expect(parseYaml(files['.github/workflows/modelctl.yml'] as string).jobs.deploy.steps.some((s: { run?: string }) => s.run?.includes('modelctl pull "$MODEL@production"'))).toBe(true);

    // And the result is a working repository: commit uses the declared paths, params and metrics.
    const c = runCli(a, ['commit', 'fraud', '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.json().version.fileCount).toBe(2);
    const show = runCli(a, ['show', 'fraud', '--json']).json();
    expect(show.lineage.params).toEqual({ lr: 0.01 });
    expect(show.lineage.metrics).toEqual({ auc: 0.97 });
  });

  it('accepting every default equals `init --yes --model <suggested name>`', async () => {
    const a = trainingFolder('My Model');
    const ask = scripted([
      [/template/i, true],
      [/Model name/, true],
      [/Files of my-model/, true],
      [/match nothing yet/, true], // model/ does not exist yet: keep it
      [/Params file/, true],
      [/Metrics file/, true],
      [/Training data/, true],
      [/Stages/, true],
      [/Default remote/, true],
      [/CI pipeline/, true],
      [/package.json/, true],
      [/Create the repository/, true],
    ]);
    await wizardInit(a, ask);
    const b = trainingFolder('My Model');
    expect(runCli(b, ['init', '--yes', '--model', 'my-model']).code).toBe(0);
    expect(written(b)).toEqual(written(a));
    expect(JSON.parse(written(a)['modelctl.json'] as string).models['my-model'].paths).toEqual(['model/']);
  });

  it('flags skip their questions; declining at the end writes nothing', async () => {
    const a = trainingFolder();
    const ask = scripted([
      [/Params file/, ''],
      [/Metrics file/, ''],
      [/Training data/, ''],
      [/Create the repository/, false],
    ]);
    const outcome = await wizardInit(a, ask, { model: 'fraud', paths: ['checkpoints/'], stages: 'production', remote: '', ci: 'none', npmScripts: false, template: 'default' });
    expect(outcome).toBeNull();
    expect(existsSync(join(a, '.modelctl'))).toBe(false);
    expect(existsSync(join(a, 'modelctl.json'))).toBe(false);
  });

  it('an unreachable remote is reported; the person can drop it, or keep it', async () => {
    const unreachable = async (): Promise<RemoteCheck> => ({
      displayUrl: 's3://nowhere/models', reachable: false, initialized: false, elapsedMs: 3,
      problem: { code: 'REMOTE_UNREACHABLE', message: 'getaddrinfo ENOTFOUND', hint: 'check the network' },
    });
    const a = trainingFolder();
    const drop = scripted([
      [/Default remote/, 's3://nowhere/models'],
      [/endpoint/i, ''],
      [/Region/, 'eu-west-1'],
      [/What now/, 'drop'],
      [/Create the repository/, true],
    ]);
    const out1 = await wizardInit(a, drop, { template: 'default', model: '', stages: 'staging,production', ci: 'none', npmScripts: false }, services(a, unreachable));
    expect(drop.notes.join('\n')).toMatch(/not reachable: getaddrinfo ENOTFOUND/);
    expect(out1?.answers.remote).toBeNull();
    expect(JSON.parse(readFileSync(join(a, 'modelctl.json'), 'utf8')).remotes).toBeUndefined();

    const b = trainingFolder();
    const keep = scripted([
      [/Default remote/, 's3://nowhere/models'],
      [/endpoint/i, 'http://127.0.0.1:9'],
      [/Region/, ''],
      [/What now/, 'retry'],
      [/What now/, 'keep'],
      [/Create the repository/, true],
    ]);
    await wizardInit(b, keep, { template: 'default', model: '', stages: 'staging,production', ci: 'none', npmScripts: false }, services(b, unreachable));
    expect(JSON.parse(readFileSync(join(b, 'modelctl.json'), 'utf8')).remotes).toEqual({ origin: { url: 's3://nowhere/models', endpoint: 'http://127.0.0.1:9' } });
  });

  it('--yes with an unreachable remote warns, saves it and exits 0', () => {
    const d = tempDir();
    const r = runCli(d, ['init', '--yes', '--remote', 's3://modelctl-test/x', '--endpoint', 'http://127.0.0.1:9', '--region', 'us-east-1', '--json'], {
      env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/did not answer/);
    expect(r.json().remoteCheck.reachable).toBe(false);
    expect(JSON.parse(readFileSync(join(d, 'modelctl.json'), 'utf8')).remotes.origin.endpoint).toBe('http://127.0.0.1:9');
  }, 90_000);
});

/** Runs `modelctl init` on a pseudo-terminal (util-linux `script`), typing each answer once its question shows. */
function initOnPty(cwd: string, answers: [string, string][]): Promise<{ code: number | null; output: string; answered: number }> {
  const env: NodeJS.ProcessEnv = cliEnv({ TERM: 'dumb', NO_COLOR: '1' });
  delete env.CI;
  const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} init`, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let answered = 0;
  let seen = 0;
  const timer = setInterval(() => {
    if (answered >= answers.length) return;
    const at = output.indexOf(answers[answered][0], seen);
    if (at === -1) return;
    seen = at + answers[answered][0].length;
    child.stdin.write(answers[answered][1]);
    answered++;
  }, 50);
  const killer = setTimeout(() => child.kill(), 45_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearInterval(timer);
      clearTimeout(killer);
      resolve({ code, output: output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''), answered });
    });
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('init on a real terminal', () => {
  it.skipIf(!hasScript)('asks with @inquirer/prompts on a pseudo-terminal and writes what `init --yes` writes', async () => {
    const a = trainingFolder();
    const r = await initOnPty(a, [
      ['Settings template', '\r'],
      ['Model name', 'fraud\r'],
      ['Files of fraud', 'checkpoints/\r'],
      ['Params file', '\r'],
      ['Metrics file', '\r'],
      ['Training data', '\r'],
      ['Stages', '\r'],
      ['Default remote', '\r'],
      ['CI pipeline', '\r'],
      ['package.json', 'n\r'],
      ['Create the repository', '\r'],
    ]);
    expect(r.answered, r.output).toBe(11);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/checkpoints\/\s+→ 2 files/);
    const b = trainingFolder();
    expect(runCli(b, ['init', '--yes', '--model', 'fraud', '--paths', 'checkpoints/', '--no-npm-scripts']).code).toBe(0);
    expect(written(b)).toEqual(written(a));
  }, 60_000);
});

describe('init without a terminal', () => {
  it('never prompts: no --yes and no TTY behaves like --yes', () => {
    const d = tempDir();
    const r = runCli(d, ['init'], { env: { CI: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(d, 'modelctl.json'))).toBe(true);
  });

  it('refuses bad settings before writing anything (exit 2)', () => {
    for (const args of [
      ['--paths', 'model/'], // without --model
      ['--model', 'Bad Name'],
      ['--stages', 'Staging'],
      ['--stages', 'a,a'],
      ['--template', 'tensorflow-9000'],
      ['--ci', 'jenkins'],
      ['--remote', 'http://example.com/bucket'],
      ['--remote', './folder', '--endpoint', 'http://localhost:9000'],
      ['--endpoint', 'http://localhost:9000'],
    ]) {
      const d = tempDir();
      const r = runCli(d, ['init', '--yes', '--json', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(readdirSync(d), args.join(' ')).toEqual([]);
    }
  });

  it('never overwrites: existing modelctl.json, CI files and scripts stay; a second run changes nothing', () => {
    const d = trainingFolder();
    writeFile(d, '.gitlab-ci.yml', 'mine: {}\n');
    writeFileSync(join(d, '.gitignore'), 'node_modules/\n/.modelctl\n');
    const first = runCli(d, ['init', '--yes', '--model', 'fraud', '--ci', 'gitlab', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(join(d, '.gitlab-ci.yml'), 'utf8')).toBe('mine: {}\n');
    expect(first.json().files).toContainEqual(expect.objectContaining({ path: '.gitlab-ci.yml', action: 'skipped' }));
    expect(readFileSync(join(d, '.gitignore'), 'utf8')).toBe('node_modules/\n/.modelctl\n'); // already ignored, in another spelling
    const before = written(d);
    const second = runCli(d, ['init', '--yes', '--model', 'other', '--ci', 'gitlab']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/modelctl.json exists/);
    expect(written(d)).toEqual(before);
  });

  it('the human output names what was written and what to run next', () => {
    const d = trainingFolder();
    const r = runCli(d, ['init', '--yes', '--model', 'fraud', '--template', 'pytorch', '--ci', 'github']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Created modelctl.json/);
    expect(r.stdout).toMatch(/Created \.github\/workflows\/modelctl\.yml/);
    expect(r.stdout).toMatch(/Added npm scripts: model:status, model:commit/);
    expect(r.stdout).toMatch(/modelctl commit fraud/);
  });
});

describe('templates', () => {
  const base = { model: 'fraud', hasModel: true, paths: 'model/', firstStage: 'staging', lastStage: 'production', hasStaging: true, nodeVersion: '20' };

  it('the CI templates render to valid YAML for every combination', async () => {
    const { readTemplate } = await import('../../src/workspace/templates.js');
    for (const template of ['github-actions.yml', 'gitlab-ci.yml']) {
      for (const variant of [
        { remote: '"s3://b/p"', hasRemote: true, endpoint: '"http://minio:9000"', region: '"eu-west-1"' },
        { remote: '"s3://your-bucket/modelctl"', hasRemote: false, endpoint: null, region: '"us-east-1"' },
        { remote: '"/mnt/share"', hasRemote: true, endpoint: null, region: '"us-east-1"', firstStage: 'production', hasStaging: false },
      ]) {
        const text = renderTemplate(readTemplate(template), { ...base, ...variant });
        const doc = parseYaml(text);
        expect(doc, template).toBeTypeOf('object');
        expect(text).not.toMatch(/\{\{(?!\s)/); // no placeholder left (GitHub's ${{ … }} have spaces)
        expect(text).toContain('modelctl pull "$MODEL@production"');
        expect(text).toContain('--to production --push --yes');
        if (variant.hasStaging === false) expect(text).not.toContain('--to production --push --yes --reason "trained');
        else expect(text).toContain('--to staging --push --yes');
      }
    }
  });

  it('placeholders: values, lists, inverted sections, GitHub expressions untouched, unknown keys refused', () => {
    const out = renderTemplate('a {{x}} ${{ secrets.K }}\n{{#list}}\n- {{name}} of {{x}}\n{{/list}}\n{{^empty}}\nnone\n{{/empty}}\n{{! gone }}\nend', {
      x: 'X',
      list: [{ name: 'one' }, { name: 'two' }],
      empty: [],
    });
    expect(out).toBe('a X ${{ secrets.K }}\n- one of X\n- two of X\nnone\nend');
    expect(() => renderTemplate('{{nope}}', {})).toThrow(/unknown placeholder/);
    expect(() => renderTemplate('{{#a}}x', { a: true })).toThrow(/never closed/);
  });

  it('splits lists on commas and spaces but keeps glob braces whole', () => {
    expect(splitList('a, b c,{x,y}/*.{pt,bin}')).toEqual(['a', 'b', 'c', '{x,y}/*.{pt,bin}']);
    expect(suggestModelName('/x/Fraud Detector!')).toBe('fraud-detector');
    expect(suggestModelName('/x/__')).toBe('model');
    expect(answersFromFlags({}, { templateDefaults: () => ({ paths: ['p'] }) }).model).toBeNull();
  });
});

describe('init in a clone', () => {
  it('suggests fetch, ls and pull of the latest version (not a stage nobody may have promoted to)', () => {
    const repo = tempDir();
    writeFile(repo, 'modelctl.json', JSON.stringify({ models: { fraud: { paths: ['model/'] } }, remotes: { origin: { url: `file://${join(repo, 'remote')}` } }, default_remote: 'origin' }));
    const r = runCli(repo, ['init']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('modelctl fetch');
    expect(r.stdout).toContain('modelctl ls');
    expect(r.stdout).toContain('modelctl pull fraud@latest');
    expect(r.stdout).not.toContain('@production');
  });
});
