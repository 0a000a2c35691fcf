import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempDir, writeFile } from '../helpers/temp-repo.js';
import { editSettings, git, mc, trainingRepo } from './repro-helpers.js';

/**
 * `modelctl run` (docs/design.md §14) with a real training job: what the lineage records, the
 * log, the clean_git rule, failing and interrupted commands, secrets, and outputs that change
 * while they are committed.
 */

const show = (root: string, ref = 'tiny') => mc(root, 'show', ref).json();
const versionCount = (root: string) => {
  const r = mc(root, 'log', 'tiny');
  return r.code === 0 ? r.json().versions.length : 0;
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('modelctl run', () => {
  it('commits the declared outputs with the run, the environment and the git state in the lineage', () => {
    const root = trainingRepo();
    editSettings(root, (s) => void (s.run = { env: ['EXTRA_FLAG', 'MY_SERVICE_TOKEN'] }));
    git(root, 'commit', '-q', '-am', 'record EXTRA_FLAG');
    const head = git(root, 'rev-parse', 'HEAD');
    const secretEnv = 'distinctEnvSecret-Value-0451';
    const secretArg = 'sk-distinctArgSecret0451xyzABCDEF';
    const r = runCli(root, ['run', '--json', '-m', 'first run', '--', 'node', 'train.js', '--seed', '3', '--api-key', secretArg], {
      env: { TZ: 'UTC', PYTHONHASHSEED: '0', EXTRA_FLAG: 'on', MY_SERVICE_TOKEN: secretEnv, HOME_SECRET_PLACE: 'x' },
    });
    expect(r.code, r.stderr).toBe(0);
    const result = r.json();
    expect(result.created).toBe(true);
    expect(result.stdout).toBeUndefined();
    // The job's own stdout went to stderr, so stdout is the one JSON document.
    expect(r.stderr).toContain('trained 40 epochs');

    const v = show(root);
    expect(v.files.map((f: { path: string }) => f.path)).toEqual(['model/config.json', 'model/weights.bin']);
    const { run, code, params, metrics, data } = v.lineage;
    expect(run.command).toEqual(['node', 'train.js', '--seed', '3', '--api-key', 'REDACTED']);
    expect(run.exitCode).toBe(0);
    expect(run.cwd).toBe('.');
    expect(run.durationMs).toBeGreaterThan(0);
    expect(run.log).toBeNull();
    // A Node process is tens of MiB resident; the sampler must have seen it.
    expect(run.peakMemory.method).toBe('proc-sampling');
    expect(run.peakMemory.bytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(run.env).toMatchObject({ EXTRA_FLAG: 'on', MY_SERVICE_TOKEN: 'REDACTED', PYTHONHASHSEED: '0', TZ: 'UTC' });
    for (const name of ['HOME', 'PATH', 'USER', 'HOME_SECRET_PLACE']) expect(Object.keys(run.env)).not.toContain(name);
    expect(code.commit).toBe(head);
    expect(code.dirty).toBe(false);
    expect(params).toEqual({ lr: 0.05, epochs: 40 });
    expect(typeof metrics.loss).toBe('number');
    expect(metrics.loss).toBeLessThan(0.05);
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ kind: 'file', source: 'data/train.csv' });
    expect(data[0].digest).toMatch(/^[0-9a-f]{64}$/);

    // Neither secret is anywhere modelctl wrote, nor in what it printed.
    for (const f of filesUnder(join(root, '.modelctl'))) {
      const bytes = readFileSync(f).toString('latin1');
      expect(bytes.includes(secretEnv), relative(root, f)).toBe(false);
      expect(bytes.includes(secretArg), relative(root, f)).toBe(false);
    }
    expect(r.stdout.includes(secretArg) || r.stdout.includes(secretEnv)).toBe(false);
    const history = mc(root, 'history', 'tiny');
    expect(history.stdout.includes(secretArg)).toBe(false);
  });

  it('measures the peak memory of the whole process tree, not just the first process', () => {
    const root = trainingRepo();
    // Two children hold 96 MB each at the same time; each process alone stays near 130 MB.
    writeFile(
      root,
      'tree.js',
      `const { spawn } = require('node:child_process');
const hold = "const b = Buffer.alloc(96e6, 1); setTimeout(() => console.log(b[0]), 1500);";
const kids = [spawn(process.execPath, ['-e', hold]), spawn(process.execPath, ['-e', hold])];
let left = kids.length;
for (const k of kids) k.on('exit', () => { if (--left === 0) { require('fs').mkdirSync('model', { recursive: true }); require('fs').writeFileSync('model/w.bin', 'w'); require('fs').writeFileSync('metrics.json', '{}'); } });
`,
    );
    const r = mc(root, 'run', '--', 'node', 'tree.js');
    expect(r.code, r.stderr).toBe(0);
    const peak = r.json().run.peakMemory;
    expect(peak.samples).toBeGreaterThan(5);
    expect(peak.bytes).toBeGreaterThan(2 * 96e6);
  });

  it('a command too short to sample never reports a peak of "0 B"', () => {
    const root = trainingRepo();
    expect(mc(root, 'run', '--', 'node', 'train.js').code).toBe(0);
    const r = runCli(root, ['run', '--', 'true']);
    expect(r.code, r.stderr).toBe(0);
    // `true` lives about a millisecond: usually gone before the first sample (5 ms in), so "not
    // measured"; on a loaded machine a sample may catch it, and then its figure is real. The
    // sampler's own tests (test/unit/process-tree-memory.test.ts) pin which one happens when.
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/peak memory (not measured|[1-9][0-9.]* (B|KiB|MiB))/);
    expect(out).not.toContain('peak memory 0 B');
    const run = mc(root, 'show', 'tiny').json().lineage.run;
    expect(run.peakMemory.samples > 0).toBe(run.peakMemory.bytes > 0);
    // show's lineage line says the same as the run did, never "peak 0 B".
    const shown = runCli(root, ['show', 'tiny']).stdout;
    expect(shown).toMatch(/run: .*\(exit 0, [^)]*, peak (not measured|[1-9][0-9.]* (B|KiB|MiB))\)/);
    expect(shown).not.toContain('peak 0 B');
  });

  it('records a dirty tree as dirty, and refuses to run one when run.clean_git is set (exit 5)', () => {
    const root = trainingRepo();
    writeFile(root, 'train.js', `${readFileSync(join(root, 'train.js'), 'utf8')}\n// tweak\n`);
    const dirty = mc(root, 'run', '--', 'node', 'train.js');
    expect(dirty.code, dirty.stderr).toBe(0);
    const code = show(root).lineage.code;
    expect(code.dirty).toBe(true);
    expect(code.diffHash).toMatch(/^[0-9a-f]{64}$/);

    editSettings(root, (s) => void (s.run = { clean_git: true }));
    const refused = mc(root, 'run', '--', 'node', '-e', "require('fs').writeFileSync('ran', 'x')");
    expect(refused.code).toBe(5);
    expect(refused.error().code).toBe('DIRTY_TREE');
    expect(existsSync(join(root, 'ran'))).toBe(false);
    expect(versionCount(root)).toBe(1);

    git(root, 'commit', '-q', '-am', 'tweak, clean_git');
    const clean = mc(root, 'run', '--', 'node', 'train.js', '--seed', '9');
    expect(clean.code, clean.stderr).toBe(0);
    expect(show(root).lineage.code.dirty).toBe(false);
  });

  // Found in a first-hour walk: `git init`, then modelctl before the first git commit, was told
  // "requires a git work tree, and this is not one" (hint: "run from a git clone"), and show
  // printed "code: (not a git repository)" for a git repository.
  it('in a git repository before its first commit, clean_git says to commit, not that this is no git work tree', () => {
    const root = tempDir('modelctl-nocommit-');
    git(root, 'init', '-q');
    expect(runCli(root, ['init', '--yes', '--model', 'm', '--paths', 'model/']).code).toBe(0);
    const free = mc(root, 'run', '--', 'node', '-e', "require('fs').mkdirSync('model');require('fs').writeFileSync('model/w', '1')");
    expect(free.code, free.stderr).toBe(0);
    expect(runCli(root, ['show', 'm@v1']).stdout).toMatch(/code: +\(not recorded: outside git, or before the first git commit\)/);

    editSettings(root, (s) => void (s.run = { clean_git: true }));
    const refused = mc(root, 'run', '--', 'node', '-e', "require('fs').writeFileSync('ran', 'x')");
    expect(refused.code).toBe(5);
    expect(refused.error().code).toBe('NO_GIT_COMMIT');
    expect(refused.error().hint).toMatch(/git commit/);
    expect(existsSync(join(root, 'ran'))).toBe(false);

    const outside = tempDir('modelctl-nogit-');
    expect(runCli(outside, ['init', '--yes', '--model', 'm', '--paths', 'model/']).code).toBe(0);
    editSettings(outside, (s) => void (s.run = { clean_git: true }));
    expect(mc(outside, 'run', '--', 'node', '-e', '0').error().code).toBe('NOT_IN_GIT');
  });

  it('--log stores the combined output as a file of the version', () => {
    const root = trainingRepo();
    const r = mc(root, 'run', '--log', '--', 'sh', '-c', 'node train.js && echo "a warning on stderr" >&2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().run.log).toBe('logs/tiny.log');
    const v = show(root);
    expect(v.files.map((f: { path: string }) => f.path)).toContain('logs/tiny.log');
    const log = readFileSync(join(root, 'logs/tiny.log'), 'utf8');
    expect(log).toContain('trained 40 epochs');
    expect(log).toContain('a warning on stderr');
    // The log is a file of the version like any other: a checkout brings it back.
    writeFile(root, 'logs/tiny.log', 'overwritten');
    expect(runCli(root, ['checkout', 'tiny', '--force']).code).toBe(0);
    expect(readFileSync(join(root, 'logs/tiny.log'), 'utf8')).toBe(log);

    const named = mc(root, 'run', '--log', 'out/train.txt', '--', 'node', 'train.js', '--seed', '2');
    expect(named.code, named.stderr).toBe(0);
    expect(show(root).files.map((f: { path: string }) => f.path)).toContain('out/train.txt');
  });

  it('a failing command commits nothing and modelctl exits with its code', () => {
    const root = trainingRepo();
    const failed = mc(root, 'run', '--', 'sh', '-c', 'node train.js && exit 42');
    expect(failed.code).toBe(42);
    expect(failed.error().code).toBe('COMMAND_FAILED');
    expect(versionCount(root)).toBe(0);
    const killed = mc(root, 'run', '--', 'node', '-e', "process.kill(process.pid, 'SIGKILL')");
    expect(killed.code).toBe(128 + 9);
    const missing = mc(root, 'run', '--', 'no-such-program-here');
    expect(missing.code).toBe(3);
    // Exit 0 without the declared outputs: nothing to commit, and the message says why.
    rmSync(join(root, 'model'), { recursive: true, force: true });
    const nothing = mc(root, 'run', '--', 'node', '-e', '0');
    expect(nothing.code).toBe(3);
    expect(nothing.error().code).toBe('OUTPUT_NOT_FOUND');
    expect(mc(root, 'run', '--', 'node', 'train.js').code).toBe(0);
    expect(versionCount(root)).toBe(1);
  });

  it('says which model to commit when modelctl.json declares several, and refuses a model without outputs', () => {
    const root = trainingRepo();
    editSettings(root, (s) => void ((s.models as Record<string, unknown>).other = { paths: ['other/'] }));
    expect(mc(root, 'run', '--', 'node', 'train.js').error().code).toBe('MODEL_REQUIRED');
    expect(mc(root, 'run', '--model', 'tiny', '--', 'node', 'train.js').code).toBe(0);
    editSettings(root, (s) => void ((s.models as Record<string, unknown>).bare = {}));
    const bare = mc(root, 'run', '--model', 'bare', '--', 'node', 'train.js');
    expect(bare.code).toBe(2);
    expect(bare.error().code).toBe('NO_PATHS');
    expect(bare.error().hint).toContain(`modelctl config set --shared models.bare.paths '["model/"]'`);
  });

  it('with no model declared, the hint is a command that declares one (init cannot: modelctl.json exists)', () => {
    const root = trainingRepo();
    editSettings(root, (s) => void (s.models = {}));
    const none = mc(root, 'run', '--', 'node', 'train.js');
    expect(none.code).toBe(2);
    expect(none.error().code).toBe('NO_MODEL');
    // Follow the hint as a person would, with their model's name and output folder.
    const hinted = /`modelctl (config set [^`]+)`/.exec(none.error().hint as string)![1].replace('models.fraud.', 'models.tiny.');
    const args = hinted.match(/'[^']*'|\S+/g)!.map((a) => a.replace(/^'|'$/g, '')); // the shell's quoting
    expect(mc(root, ...args).code).toBe(0);
    const ran = mc(root, 'run', '--', 'node', 'train.js');
    expect(ran.code, ran.stderr).toBe(0);
    expect(versionCount(root)).toBe(1);
  });

  it('Ctrl-C reaches the command, then modelctl exits 130 with nothing committed', async () => {
    const root = trainingRepo();
    // The job writes its outputs, then waits; on SIGINT it notes it and exits 0 — a run that
    // would be committed if modelctl ignored the interrupt.
    writeFile(
      root,
      'slow.js',
      `const fs = require('fs');
fs.mkdirSync('model', { recursive: true });
fs.writeFileSync('model/w.bin', 'weights');
fs.writeFileSync('metrics.json', '{}');
process.on('SIGINT', () => { fs.writeFileSync('got-sigint', 'yes'); process.exit(0); });
fs.writeFileSync('started', 'yes');
setTimeout(() => {}, 30000);
`,
    );
    const child = spawn(process.execPath, [BIN, 'run', '--json', '--', 'node', 'slow.js'], { cwd: root, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!existsSync(join(root, 'started')) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
    // Only modelctl gets the signal (as `kill -INT`); it must pass it on to its command.
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(JSON.parse(stderr.trim().split('\n').pop() as string).error.code).toBe('INTERRUPTED');
    expect(readFileSync(join(root, 'got-sigint'), 'utf8')).toBe('yes');
    expect(versionCount(root)).toBe(0);
  });

  it('outputs that change while they are committed are refused (exit 4), nothing committed', () => {
    const root = trainingRepo();
    // The job leaves a writer behind that keeps appending to its output after it exits.
    writeFile(
      root,
      'leaves-writer.js',
      `const fs = require('fs');
const { spawn } = require('child_process');
fs.mkdirSync('model', { recursive: true });
fs.writeFileSync('model/big.bin', Buffer.alloc(48 * 1024 * 1024, 7));
fs.writeFileSync('metrics.json', '{}');
const writer = "const fs = require('fs'); const end = Date.now() + 6000; const t = setInterval(() => { fs.appendFileSync('model/big.bin', 'x'); if (Date.now() > end) clearInterval(t); }, 1);";
const w = spawn(process.execPath, ['-e', writer], { detached: true, stdio: 'ignore' });
fs.writeFileSync('writer.pid', String(w.pid));
w.unref();
setTimeout(() => {}, 150);
`,
    );
    const r = mc(root, 'run', '--', 'node', 'leaves-writer.js');
    try {
      process.kill(Number(readFileSync(join(root, 'writer.pid'), 'utf8')), 'SIGKILL');
    } catch {
      /* already done */
    }
    expect(r.code, r.stderr).toBe(4);
    expect(r.error().code).toBe('FILE_CHANGED');
    expect(versionCount(root)).toBe(0);
    expect(statSync(join(root, 'model/big.bin')).size).toBeGreaterThan(48 * 1024 * 1024);
  });
});
