/**
 * One `watch` per state folder: a second watch on the same --out is refused at start (exit 4,
 * naming the running one's pid), so a stage move is deployed and its hook run once, not twice
 * with the two racing on the same version folders. The lock dies with its process: after a
 * kill -9 the next watch starts.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushedTeam } from './watch-helpers.js';
import { BIN, cliEnv, runCli, tempDir } from '../helpers/temp-repo.js';

describe('watch: one per state folder', () => {
  it('refuses a second watch on the same --out while one runs, and not after that one was killed with kill -9', async () => {
    const { team, registry } = await pushedTeam({ promote: true });
    const host = tempDir();
    const log = join(host, 'hook.log');
    const args = ['watch', 'fraud@production', '--remote', registry, '--out', join(host, 'model'), '--exec', `echo "$MODELCTL_REF" >> ${log}`];

    const first = spawn(process.execPath, [BIN, ...args, '--interval', '1s', '--json'], { cwd: host, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    first.stdout!.on('data', (b: Buffer) => (text += b.toString('utf8')));
    const exited = new Promise<NodeJS.Signals | null>((r) => first.on('exit', (_c, sig) => r(sig)));
    const end = Date.now() + 20_000;
    while (!text.includes('"event":"deployed"') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(text).toContain('"event":"deployed"');

    // Before, the second one ran too: both deployed every move and --exec ran twice.
    const second = runCli(host, [...args, '--once', '--json']);
    expect(second.code).toBe(4);
    expect(second.error().code).toBe('WATCH_RUNNING');
    expect(second.error().message).toContain(`pid ${first.pid}`);
    expect(second.error().data?.pid).toBe(first.pid);
    expect(readFileSync(log, 'utf8')).toBe('fraud@v1\n');

    first.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const restart = runCli(host, [...args, '--once', '--json']);
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stdout).not.toContain('"event":"deployed"');
    expect(readFileSync(log, 'utf8')).toBe('fraud@v1\n');
  }, 60_000);
});
