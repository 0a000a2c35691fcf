/**
 * A commit of many small files (a tokenizer folder, sharded configs) must not need a file
 * descriptor per file: with a common soft limit (1,024 on Linux, 256 on macOS) a commit of a
 * few thousand files used to fail with EMFILE (exit 1), because every file's store temp file
 * was opened before any was hashed. Here the limit is lowered to 128 around 400 files.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempDir, writeFile } from '../helpers/temp-repo.js';

/** Runs the CLI under `ulimit -n <limit>` (a POSIX sh builtin). */
function runWithFdLimit(cwd: string, limit: number, args: string[]): { code: number; stderr: string; stdout: string } {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit -n ${limit} && exec ${quoted}`], { cwd, encoding: 'utf8', env: cliEnv({ CI: '1', NO_COLOR: '1' }) });
  return { code: r.status ?? 128, stderr: r.stderr, stdout: r.stdout };
}

describe('many small files', () => {
  it('commits 400 files with 128 file descriptors allowed, then checks them out', () => {
    const repo = tempDir();
    expect(runCli(repo, ['init', '--yes', '--model', 'tok', '--paths', 'model/']).code).toBe(0);
    for (let i = 0; i < 400; i++) writeFile(repo, `model/${String(i % 7)}/f${i}.txt`, `${'x'.repeat(i % 97)}${i}`);

    const commit = runWithFdLimit(repo, 128, ['commit', 'tok', '-m', 'many', '--json']);
    expect(commit.stderr).not.toMatch(/EMFILE/);
    expect(commit.code).toBe(0);
    expect(JSON.parse(commit.stdout).version.fileCount).toBe(400);

    const out = tempDir();
    const checkout = runWithFdLimit(repo, 128, ['checkout', 'tok', '--out', out, '--json']);
    expect(checkout.code).toBe(0);
    expect(JSON.parse(checkout.stdout).files).toHaveLength(400);
    expect(runCli(repo, ['verify']).code).toBe(0);
  });
});
