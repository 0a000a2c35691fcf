// Moved out of remote-sync.test.ts into the full suite (README, Development): a kill -9 in
// the middle of a 96 MiB push and pull is a fault test, and the longest case of that file.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, remoteAddIn } from '../helpers/setup-api.js';
import { BIN, cliEnv, pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** `modelctl commit <model> <paths…>` with no -m, arranged through the Node API. */
const commitNoMessage = (cwd: string, model: string, paths: string[]) => commitIn(cwd, model, paths, '', { message: undefined, argv: ['commit', model, ...paths] });

describe('kill -9 mid-transfer, then resume', () => {
  function spawnAndKill(cwd: string, args: string[], when: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: 'ignore', env: cliEnv({ CI: '1' }) });
      const timer = setInterval(() => {
        if (when()) {
          child.kill('SIGKILL');
          clearInterval(timer);
        }
      }, 5);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
    });
  }

  it('push resumes sending only what is missing; pull resumes and ends verified', async () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    writeFile(a, 'w.bin', pseudoRandomBytes(96 * 1024 * 1024, 31));
    // Arranged through the Node API (setup-api.ts); the killed and resumed transfers run through the CLI.
    await commitNoMessage(a, 'fraud', ['w.bin']);
    await remoteAddIn(a, 'origin', remote, { default: true });
    const chunkCount = () => (existsSync(join(remote, 'chunks')) ? readdirSync(join(remote, 'chunks')).length : 0);
    await spawnAndKill(a, ['push', '--jobs', '2'], () => chunkCount() >= 20);
    const before = chunkCount();
    const resumed = runCli(a, ['push', '--json']);
    expect(resumed.code).toBe(0);
    const total = before + resumed.json().chunks.uploaded;
    expect(resumed.json().chunks.uploaded).toBeLessThan(total);
    expect(resumed.json().chunks.uploaded + resumed.json().chunks.alreadyThere + resumed.json().chunks.knownFromIndex).toBeGreaterThanOrEqual(total - 2);

    const b = tempRepo();
    await remoteAddIn(b, 'origin', remote, { default: true });
    const partialSize = () => {
      const tmp = join(b, '.modelctl/tmp');
      const p = existsSync(tmp) ? readdirSync(tmp).find((n) => n.startsWith('partial-')) : undefined;
      return p ? statSync(join(tmp, p)).size : 0;
    };
    await spawnAndKill(b, ['pull', 'fraud', '--out', 'o', '--jobs', '2'], () => partialSize() > 30 * 1024 * 1024);
    const again = runCli(b, ['pull', 'fraud', '--out', 'o', '--json']);
    expect(again.code).toBe(0);
    expect(again.json().download.chunksReused).toBeGreaterThan(0);
    expect(readFileSync(join(b, 'o/w.bin')).equals(readFileSync(join(a, 'w.bin')))).toBe(true);
    expect(runCli(b, ['verify']).code).toBe(0);
  });
});
