/**
 * `modelctl watch` under signals: SIGTERM and SIGINT wait for a running hook and exit; a
 * restart deploys nothing again; a hook killed while watch stops abandons the deploy, which a
 * restart tries again. (The quick part is watch.test.ts.)
 */
import { spawn } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushedTeam } from './watch-helpers.js';
import { BIN, cliEnv, runCli, tempDir } from '../helpers/temp-repo.js';

describe('watch', () => {
  it('finishes a running hook on SIGTERM before it exits, and a restart deploys nothing again', async () => {
    const { registry } = await pushedTeam({ promote: true });
    const host = tempDir();
    const out = join(host, 'model');
    const log = join(host, 'hook.log');
    const args = ['watch', 'fraud@production', '--remote', registry, '--out', out, '--exec', `sleep 2; echo "done $MODELCTL_REF" >> ${log}`, '--interval', '1s', '--json'];
    const w = spawn(process.execPath, [BIN, ...args], { cwd: host, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    w.stdout!.on('data', (b: Buffer) => (text += b.toString('utf8')));
    const code = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
    const end = Date.now() + 20_000;
    while (!text.includes('"event":"stage-moved"') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // the hook is sleeping now
    w.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('done fraud@v1\n');
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('one\n');
    expect(text).toContain('"event":"deployed"');

    const again = runCli(host, [...args.slice(0, -3), '--once', '--json']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('"event":"deployed"');
    expect(readFileSync(log, 'utf8')).toBe('done fraud@v1\n');
  }, 60_000);

  // Found by pressing Ctrl-C (SIGINT to the terminal's whole process group) while a hook ran:
  // the hook died with the signal, watch recorded the deploy as failed (exit code 130) and
  // exited 0, and every restart then refused that version until the stage moved.
  it('a Ctrl-C at the terminal (SIGINT to the process group) lets the running hook finish', async () => {
    const { registry } = await pushedTeam({ promote: true });
    const host = tempDir();
    const out = join(host, 'model');
    const log = join(host, 'hook.log');
    const args = ['watch', 'fraud@production', '--remote', registry, '--out', out, '--exec', `sleep 2; echo "done $MODELCTL_REF" >> ${log}`, '--interval', '1s', '--json'];
    // detached: watch leads its own process group, as a shell's foreground job does.
    const w = spawn(process.execPath, [BIN, ...args], { cwd: host, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let text = '';
    w.stdout!.on('data', (b: Buffer) => (text += b.toString('utf8')));
    const code = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
    const end = Date.now() + 20_000;
    while (!text.includes('"event":"stage-moved"') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // the hook is sleeping now
    process.kill(-w.pid!, 'SIGINT');
    expect(await code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('done fraud@v1\n');
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('one\n');
    expect(text).toContain('"event":"deployed"');
    expect(text).not.toContain('"event":"deploy-failed"');
  }, 60_000);

  it('a hook killed while watch stops (systemd stops the whole unit) abandons the deploy, and a restart tries it again', async () => {
    const { registry } = await pushedTeam({ promote: true });
    const host = tempDir();
    const out = join(host, 'model');
    const pidFile = join(host, 'hook.pid');
    const args = ['watch', 'fraud@production', '--remote', registry, '--out', out, '--interval', '1s', '--json'];
    const w = spawn(process.execPath, [BIN, ...args, '--exec', `echo $$ > ${pidFile}; sleep 5`], { cwd: host, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    w.stdout!.on('data', (b: Buffer) => (text += b.toString('utf8')));
    const code = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
    const end = Date.now() + 20_000;
    const hookPid = (): number => Number(readFileSync(pidFile, 'utf8'));
    while (Date.now() < end) {
      try {
        if (hookPid() > 0) break;
      } catch {
        /* not started yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // As systemd's default KillMode=control-group: SIGTERM to watch and to its hook at once.
    w.kill('SIGTERM');
    process.kill(hookPid(), 'SIGTERM');
    expect(await code).toBe(130);
    expect(text).not.toContain('"event":"deploy-failed"');
    expect(() => lstatSync(out)).toThrow(); // nothing was left switched in

    const again = runCli(host, [...args, '--exec', 'true', '--once']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('"event":"deployed"');
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('one\n');
  }, 60_000);
});
