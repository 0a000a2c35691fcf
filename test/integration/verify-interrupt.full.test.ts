/**
 * verify hashes the store synchronously; a Ctrl-C used to wait for the whole store and then
 * exit 0 with a report. It now stops within a step: exit 130 (README, Interrupts). The
 * process is held between two objects at the `verify-object` test barrier
 * (src/store/test-barrier.ts) while the signal arrives.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { BIN, cliEnv, runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('verify and Ctrl-C', () => {
  it('stops between objects with exit 130 and prints no report', async () => {
    const repo = tempRepo();
    for (const name of ['a', 'b', 'c']) writeFile(repo, `model/${name}.bin`, `${name} bytes`);
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    const barriers = new Barriers();
    barriers.arm('verify-object');
    const child = spawn(process.execPath, [BIN, 'verify'], { cwd: repo, env: cliEnv({ CI: '1', ...barriers.env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errText = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr!.on('data', (b: Buffer) => (errText += b.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await barriers.reached('verify-object');
    child.kill('SIGINT');
    barriers.release('verify-object');
    expect(await exited).toBe(130);
    expect(errText).toContain('interrupted by SIGINT');
    expect(out).not.toContain('all good');
    // Uninterrupted, the same store verifies.
    expect(runCli(repo, ['verify']).code).toBe(0);
  });
});
