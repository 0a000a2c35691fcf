import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/temp-repo.js';

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
    expect(typo.error().message).toMatch(/Did you mean commit\?/);
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
