import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { runCli, tempDir } from '../helpers/temp-repo.js';

/** Every visible command under `cmd`, with its path (`['remote', 'add']`). */
function allCommands(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  const out: { path: string[]; cmd: Command }[] = [];
  for (const sub of cmd.commands) {
    if ((sub as unknown as { _hidden?: boolean })._hidden) continue;
    const p = [...path, sub.name()];
    out.push({ path: p, cmd: sub }, ...allCommands(sub, p));
  }
  return out;
}

/** The whole help a user sees for `cmd`, the text added after it included. */
function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('help of every command', () => {
  it('every command and subcommand has an Examples section that runs it and lists the global options', async () => {
    const program = await buildProgram();
    const commands = allCommands(program);
    // The walk reaches subcommands (config get, remote add, …), not only the top level.
    expect(commands.some((c) => c.path.length > 1)).toBe(true);
    for (const { path, cmd } of commands) {
      const name = path.join(' ');
      const help = helpOf(cmd);
      const examples = help.split('\nExamples:\n')[1];
      expect(examples, `${name} has no Examples section`).toBeDefined();
      // Indented lines, at least one of which runs this very command.
      expect(examples.split('\n').some((l) => /^\s+/.test(l) && l.includes(`modelctl ${name}`)), name).toBe(true);
      for (const flag of ['--json', '-C <dir>', '-q, --quiet', '--no-color']) expect(help, `${name} ${flag}`).toContain(flag);
    }
  });

  it('the global options work after a subcommand too', () => {
    const d = tempDir();
    const r = runCli(d, ['config', 'ls', '-C', d, '--json']);
    expect(r.code).toBe(3); // not a repository: -C was understood, not an unknown option
    expect(r.error().code).toBe('NOT_A_REPOSITORY');
  });

  it('--help of an unknown command or subcommand is a usage error with the closest name', () => {
    const d = tempDir();
    const top = runCli(d, ['comit', '--help', '--json']);
    expect(top.code).toBe(2);
    expect(top.error().hint).toMatch(/did you mean commit\?/);
    const sub = runCli(d, ['remote', 'ad', '--help', '--json']);
    expect(sub.code).toBe(2);
    expect(sub.error().hint).toMatch(/remote add/);
    expect(runCli(d, ['remote', 'add', '--help']).code).toBe(0);
    expect(runCli(d, ['commit', 'fraud', '--help']).code).toBe(0);
  });

  it('an unknown flag names the help of the command it was given to', () => {
    const d = tempDir();
    const r = runCli(d, ['remote', 'add', 'o', 'x', '--bogus', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().hint).toContain('modelctl remote add --help');
  });

  it('--version --json prints one JSON document', () => {
    const d = tempDir();
    for (const args of [['--version', '--json'], ['--json', '-V']]) {
      const r = runCli(d, args);
      expect(r.code).toBe(0);
      expect(r.json().version).toMatch(/^\d+\.\d+\.\d+/);
    }
  });
});
