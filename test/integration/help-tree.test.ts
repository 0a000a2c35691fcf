import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

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

  it("an option's missing value is not taken from the next flag: `gc --remote --dry-run` is a usage error, nothing collected", () => {
    const repo = tempRepo();
    const remote = join(tempDir(), 'shared');
    expect(runCli(repo, ['remote', 'add', 'origin', remote]).code).toBe(0);
    writeFile(repo, 'm/w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'm']).code).toBe(0);
    expect(runCli(repo, ['push']).code).toBe(0);
    const before = readdirSync(remote, { recursive: true }).sort();
    for (const args of [['gc', '--remote', '--dry-run'], ['gc', '--remote', '-y'], ['push', '--remote', '--all']]) {
      const r = runCli(repo, [...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.error().code, args.join(' ')).toBe('OPTION_VALUE_MISSING');
      expect(r.error().message).toContain(`'--remote <name|url>' needs a value, but the next word is the option '${args[2]}'`);
    }
    expect(readdirSync(remote, { recursive: true }).sort()).toEqual(before);
    expect(runCli(repo, ['gc', '--remote', 'origin', '--dry-run']).code).toBe(0); // the value given: fine
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
