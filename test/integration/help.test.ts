import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

describe('help', () => {
  it('has a page per topic', () => {
    const d = tempDir();
    for (const [topic, pattern] of [
      ['references', /fraud@production/],
      ['stages', /"policies"/],
      ['remotes', /s3:\/\/bucket\/prefix/],
      ['exit-codes', /130/],
    ] as const) {
      const r = runCli(d, ['help', topic]);
      expect(r.code, topic).toBe(0);
      expect(r.stdout).toMatch(pattern);
      const json = runCli(d, ['help', topic, '--json']);
      expect(json.json().topic).toBe(topic);
    }
  });

  it('shows a command\'s help, a subcommand\'s help, and the topics under --help', () => {
    const d = tempDir();
    expect(runCli(d, ['help', 'commit']).stdout).toMatch(/Usage: modelctl commit/);
    expect(runCli(d, ['help', 'remote', 'add']).stdout).toMatch(/Usage: modelctl remote add/);
    const top = runCli(d, ['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Help topics \(modelctl help <topic>\):\n\s+references/);
    expect(runCli(d, ['help']).stdout).toMatch(/Usage: modelctl/);
    expect(top.stdout).not.toMatch(/__complete/); // the completion helper stays hidden
  });

  it('suggests the closest command for a typo, as a command and as a help topic (exit 2)', () => {
    const d = tempDir();
    const typo = runCli(d, ['comit', 'fraud', '--json']);
    expect(typo.code).toBe(2);
    expect(typo.error().hint).toMatch(/did you mean commit\?/i);
    const human = runCli(d, ['promte']);
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/promote/);
    const flag = runCli(d, ['commit', 'fraud', '--mesage', 'x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--message/);
    const topic = runCli(d, ['help', 'referencs', '--json']);
    expect(topic.code).toBe(2);
    expect(topic.error().message).toMatch(/'references'/);
  });

  it('the day-one commands have examples in their --help', () => {
    const d = tempDir();
    for (const cmd of ['init', 'card', 'export', 'import', 'completion', 'help']) {
      const r = runCli(d, [cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Examples:\n {2}.*modelctl \w/);
    }
  });
});

describe('output', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;

  /** Runs the CLI on a pseudo-terminal (stdout and stderr are a TTY). */
  function onTty(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
    const clean: NodeJS.ProcessEnv = cliEnv({ TERM: 'xterm-256color', ...env });
    delete clean.CI;
    if (!('NO_COLOR' in env)) delete clean.NO_COLOR;
    delete clean.FORCE_COLOR;
    const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    return spawnSync('script', ['-qfec', command, '/dev/null'], { cwd, env: clean, encoding: 'utf8' }).stdout;
  }

  it.skipIf(!hasScript)('colour only on a terminal, never with NO_COLOR or --no-color, never when piped', () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    expect(runCli(repo, ['commit', 'fraud', 'model', '--tag', '1.0.0']).code).toBe(0);
    const ansi = /\x1b\[/;
    for (const args of [['show', 'fraud'], ['comit']]) {
      expect(onTty(repo, args), args.join(' ')).toMatch(ansi);
      expect(onTty(repo, args, { NO_COLOR: '1' }), args.join(' ')).not.toMatch(ansi);
      expect(onTty(repo, [...args, '--no-color']), args.join(' ')).not.toMatch(ansi);
      const env = cliEnv();
      delete env.NO_COLOR;
      delete env.FORCE_COLOR;
      const piped = spawnSync(process.execPath, [BIN, ...args], { cwd: repo, encoding: 'utf8', env });
      expect(piped.stdout + piped.stderr, args.join(' ')).not.toMatch(ansi);
    }
  });
});
