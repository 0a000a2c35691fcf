/**
 * A repository this process cannot write (a read-only mount, another user's files) gets a
 * clear error with exit 3 (INDEX_READ_ONLY), not "unexpected failure — a bug" (exit 1); a
 * file where checkout must make a folder is "in the way" (exit 4), not an IO_ERROR (1).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

const isRoot = process.getuid?.() === 0;
// As root, permissions do not stop a write: a read-only bind mount (needs a mount namespace) does.
const canMountReadOnly = isRoot && spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' }).status === 0;

/** Runs modelctl in `repo` with the repository read-only for it; returns exit code and stderr. */
function runReadOnly(repo: string, args: string[]): { code: number | null; stderr: string } {
  const cli = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  const r = isRoot
    ? spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind '${repo}' '${repo}' && mount -o remount,bind,ro '${repo}' && cd '${repo}' && CI=1 ${cli}`], { encoding: 'utf8' })
    : spawnSync(process.execPath, [BIN, ...args], { cwd: repo, encoding: 'utf8', env: cliEnv({ CI: '1' }) });
  return { code: r.status, stderr: r.stderr };
}

function makeReadOnly(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath ?? e.path, e.name);
    chmodSync(p, statSync(p).mode & ~0o222);
  }
  chmodSync(dir, statSync(dir).mode & ~0o222);
}

describe('a repository that cannot be written', () => {
  it.skipIf(isRoot && !canMountReadOnly)('read and write commands exit 3 INDEX_READ_ONLY with a hint, not 1', () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    if (!isRoot) makeReadOnly(repo);
    try {
      for (const args of [['log', 'm', '--json'], ['status', '--json'], ['commit', 'm', 'model', '-m', 'two', '--json']]) {
        const r = runReadOnly(repo, args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
        expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'INDEX_READ_ONLY', hint: expect.stringContaining('write access to .modelctl/') });
      }
    } finally {
      if (!isRoot) spawnSync('chmod', ['-R', 'u+w', repo]);
    }
  });

  it('checkout --out onto a file: exit 4 NOT_A_FOLDER', () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'weights');
    writeFile(repo, 'afile', 'not a folder');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    const r = runCli(repo, ['checkout', 'm@v1', '--out', 'afile', '--json']);
    expect(r.code).toBe(4);
    expect(r.error().code).toBe('NOT_A_FOLDER');
  });
});
