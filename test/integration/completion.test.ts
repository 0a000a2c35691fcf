import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/api/init.js';
import { BIN, runCli, tempDir, writeFile } from '../helpers/temp-repo.js';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

function complete(cwd: string, ...words: string[]): string[] {
  const r = runCli(cwd, ['__complete', '--', ...words]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

// One repository for the whole file (tempRepo's folders only live for one test).
let outer = '';
let repo = '';
afterAll(() => rmSync(outer, { recursive: true, force: true }));
beforeAll(() => {
  outer = mkdtempSync(join(tmpdir(), 'modelctl-completion-'));
  repo = join(outer, 'repo');
  mkdirSync(repo);
  init({ cwd: repo });
  writeFile(repo, 'model/w.bin', 'weights');
  for (const args of [
    ['commit', 'fraud', 'model', '--tag', '1.0.0'],
    ['promote', 'fraud@v1', '--to', 'staging', '--yes'],
    ['remote', 'add', 'origin', join(repo, '..', 'remote-dir'), '--default'],
  ]) expect(runCli(repo, args).code).toBe(0);
  writeFile(repo, 'model/w.bin', 'weights 2');
  expect(runCli(repo, ['commit', 'team/churn', 'model']).code).toBe(0);
});

describe('modelctl __complete', () => {
  it('completes commands, subcommands and flags from the program itself', () => {
    expect(complete(repo, 'co')).toEqual(['commit', 'config', 'completion']);
    expect(complete(repo, '')).toContain('promote');
    expect(complete(repo, '')).not.toContain('__complete');
    expect(complete(repo, 'remote', '')).toEqual(['add', 'ls', 'status', 'rm']);
    expect(complete(repo, 'commit', '--me')).toEqual(['--message', '--metric', '--metrics']);
    expect(complete(repo, 'show', '--j')).toEqual(['--json']);
    expect(complete(repo, 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(repo, 'init', '--ci', '')).toEqual(['github', 'gitlab', 'none']);
    expect(complete(repo, 'init', '--template', 'py')).toEqual(['pytorch']);
    expect(complete(repo, 'help', 'st')).toEqual(['stages', 'status']);
  });

  it('completes model names, references, tags, stages and remotes from the index', () => {
    expect(complete(repo, 'log', '')).toEqual(['fraud', 'team/churn']);
    expect(complete(repo, 'show', 'fr')).toEqual(['fraud', 'fraud@']);
    expect(complete(repo, 'show', 'fraud@')).toEqual(['fraud@latest', 'fraud@staging', 'fraud@1.0.0', 'fraud@v1']);
    expect(complete(repo, 'diff', 'fraud@v1', 'fraud@s')).toEqual(['fraud@staging']);
    expect(complete(repo, 'promote', 'fraud@1.0.0', '--to', '')).toEqual(['staging', 'production']);
    expect(complete(repo, 'push', '--remote', '')).toEqual(['origin']);
    expect(complete(repo, 'remote', 'rm', '')).toEqual(['origin']);
    expect(complete(repo, 'commit', '--parent', 'team/churn@')).toEqual(['team/churn@latest', 'team/churn@v1']);
    expect(complete(tempDir(), '-C', repo, 'log', '')).toEqual(['fraud', 'team/churn']);
  });

  it('prints nothing (so the shell completes files) where a path is expected, and never fails', () => {
    expect(complete(repo, 'commit', 'fraud', '')).toEqual([]);
    expect(complete(repo, 'import', '')).toEqual([]);
    expect(complete(repo, 'card', 'fraud', '-o', '')).toEqual([]);
    const outside = tempDir();
    expect(complete(outside, 'log', '')).toEqual([]);
    expect(complete(outside, 'ver')).toEqual(['verify', 'verify-signature']);
    expect(complete(outside, 'nonsense', '--what', '')).toEqual([]);
  });
});

describe('modelctl completion <shell>', () => {
  it('prints a script for bash, zsh and fish; another shell is a usage error', () => {
    const d = tempDir();
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = runCli(d, ['completion', shell]);
      expect(r.code, shell).toBe(0);
      expect(r.stdout).toContain('modelctl __complete --');
    }
    expect(runCli(d, ['completion', 'powershell']).code).toBe(2);
  });

  it('the bash script completes through a real bash', () => {
    if (spawnSync('bash', ['--version']).status !== 0) return;
    const bin = tempDir();
    mkdirSync(join(bin, 'bin'));
    const shim = join(bin, 'bin', 'modelctl');
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(shim, 0o755);
    const script = runCli(repo, ['completion', 'bash']).stdout;
    const run = (line: string) => {
      const words = line.split(' ');
      const r = spawnSync('bash', ['--noprofile', '--norc', '-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _modelctl_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        cwd: repo,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${join(bin, 'bin')}:${process.env.PATH}` },
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(run('modelctl pro')).toEqual(['promote']);
    expect(run('modelctl show fraud@s')).toEqual(['fraud@staging']);
    expect(run('modelctl promote fraud --to p')).toEqual(['production']);
  });
});
