/**
 * On a terminal (a pseudo-terminal from util-linux `script`): the progress bar of a pull shows
 * its bytes formatted on both sides ("1.0 MiB/3.0 MiB", not cli-progress's raw total), the
 * result line follows it, and colour is on. stdout and stderr are written without Node's
 * stream objects unless something needs them (cli/std-write.ts); on a terminal the progress
 * bar does, and the output must still arrive whole and in order.
 */
import { spawnSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv } from '../helpers/cli-env.js';
import { BIN, pseudoRandomBytes, runCli, tempDir, tempRepoWithFolderRemote, writeFile } from '../helpers/temp-repo.js';

/** Runs modelctl under `script`, so stdout and stderr are a terminal; returns what the terminal got. */
function onTerminal(cwd: string, args: string[]): { code: number | null; screen: string } {
  const log = join(tempDir(), 'typescript');
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, log], { cwd, encoding: 'utf8', env: cliEnv({ NO_COLOR: undefined, CI: undefined, TERM: 'xterm' }) });
  return { code: r.status, screen: readFileSync(log, 'utf8') };
}

describe('output on a terminal', () => {
  it('pull: a progress bar with formatted sizes, then the result line; log in colour', () => {
    const { repo, registry } = tempRepoWithFolderRemote();
    writeFile(repo, 'model/w.bin', pseudoRandomBytes(3 * 1024 * 1024, 5));
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    expect(runCli(repo, ['push']).code).toBe(0);

    const r = onTerminal(tempDir(), ['pull', 'm@v1', '--remote', registry, '--out', 'o']);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toMatch(/pull .*\d+% \| [\d.]+ (B|KiB|MiB)\/3\.0 MiB \|/);
    expect(r.screen).not.toContain(`/${3 * 1024 * 1024}`);
    const bar = r.screen.lastIndexOf('% |');
    const result = r.screen.indexOf('Pulled m@v1');
    expect(result, r.screen).toBeGreaterThan(bar);

    const log = onTerminal(repo, ['log', 'm']);
    expect(log.code).toBe(0);
    expect(log.screen).toContain('\u001b[1mv1\u001b[22m');
  });
});

describe('output into a non-blocking pipe', () => {
  it('a reader that is slow to start still gets every byte (the write falls back to the stream on EAGAIN)', () => {
    const { repo } = tempRepoWithFolderRemote();
    writeFile(repo, 'model/w.bin', 'weights');
    // Many params make the JSON longer than a pipe holds without committing many files.
    writeFile(repo, 'params.json', JSON.stringify(Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`param_${i}`, i]))));
    const committed = runCli(repo, ['commit', 'm', 'model', '-m', 'one', '--params', 'params.json']);
    expect(committed.code, committed.stderr).toBe(0);
    const expected = runCli(repo, ['show', 'm', '--json']).stdout;
    expect(expected.length).toBeGreaterThan(64 * 1024); // more than a pipe holds
    // python3 makes the pipe's writing end non-blocking (O_NONBLOCK), as some parents hand it over.
    const reader = [
      'import os, subprocess, sys, time',
      'r, w = os.pipe()',
      'os.set_blocking(w, False)',
      `p = subprocess.Popen(sys.argv[1:], stdout=w)`,
      'os.close(w)',
      'time.sleep(0.5)',
      'data = b""',
      'while True:',
      '    chunk = os.read(r, 65536)',
      '    if not chunk: break',
      '    data += chunk',
      'sys.stdout.buffer.write(data)',
      'sys.exit(p.wait())',
    ].join('\n');
    const r = spawnSync('python3', ['-c', reader, process.execPath, BIN, 'show', 'm', '--json'], { cwd: repo, encoding: 'utf8', env: cliEnv({ NO_COLOR: '1' }), maxBuffer: 64 * 1024 * 1024 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
  });
});

describe('output into a full disk', () => {
  it('`> /dev/full`: exit 4 (NO_SPACE) with one clear error, never a stack trace, through the direct write and the stream alike', () => {
    const { repo } = tempRepoWithFolderRemote();
    writeFile(repo, 'model/w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    // With NO_COLOR the direct write meets ENOSPC; without it, /dev/full (a character device)
    // is asked its isTTY, which creates the stream, and the stream's error event does.
    for (const env of [{ NO_COLOR: '1' }, { NO_COLOR: undefined }]) {
      for (const args of [['log', 'm'], ['--version'], ['show', 'm', '--json']]) {
        const r = spawnSync(process.execPath, [BIN, ...args], { cwd: repo, encoding: 'utf8', stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'], env: cliEnv(env) });
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(4);
        expect(r.stderr).toContain('no space left on device');
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });
});
