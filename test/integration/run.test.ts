import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, writeFile } from '../helpers/temp-repo.js';
import { editSettings, git, mc, trainingRepo } from './repro-helpers.js';
import { show, versionCount } from '../helpers/run.js';

/**
 * `modelctl run` (docs/design.md §14) with a real training job: what the lineage records, the
 * log, the clean_git rule, failing and interrupted commands, secrets, and outputs that change
 * while they are committed.
 */

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
      // TRAIN_HOLD_MS: the job lives 0.5 s, so the sampler sees it even when the machine delays its timers.
      env: { TZ: 'UTC', PYTHONHASHSEED: '0', EXTRA_FLAG: 'on', MY_SERVICE_TOKEN: secretEnv, HOME_SECRET_PLACE: 'x', TRAIN_HOLD_MS: '500' },
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
    expect(run.peakMemory.bytes, JSON.stringify(run.peakMemory)).toBeGreaterThan(10 * 1024 * 1024);
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
});
