/**
 * SIGTERM while `watch` downloads a version abandons the step cleanly (issue 15): the old
 * version stays in place at --out, no partial version folder is left, the exit code is 130,
 * and the next run deploys the new version. The process is stopped mid-download at the
 * `watch-download` test barrier (src/store/test-barrier.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { BIN, cliEnv, pseudoRandomBytes, runCli, tempDir, tempRepoWithFolderRemote, writeFile } from '../helpers/temp-repo.js';

describe('watch: SIGTERM mid-download', () => {
  it('leaves the old version in place and no partial folder, exits 130, and the next run deploys', async () => {
    const { repo: team, registry } = tempRepoWithFolderRemote();
    writeFile(team, 'model/w.bin', 'one\n');
    expect(runCli(team, ['commit', 'fraud', 'model/', '-m', 'v1']).code).toBe(0);
    writeFile(team, 'model/w.bin', pseudoRandomBytes(24 * 1024 * 1024, 7));
    expect(runCli(team, ['commit', 'fraud', 'model/', '-m', 'v2']).code).toBe(0);
    expect(runCli(team, ['push']).code).toBe(0);
    expect(runCli(team, ['promote', 'fraud@v1', '--to', 'production', '--push', '--yes']).code).toBe(0);

    const host = tempDir();
    const out = join(host, 'model');
    const versionsDir = join(host, '.model.modelctl-watch', 'versions');
    const args = ['watch', 'fraud@production', '--remote', registry, '--out', out, '--exec', 'true'];
    expect(runCli(host, [...args, '--once', '--json']).code).toBe(0);
    const v1Folder = realpathSync(out);
    expect(readdirSync(versionsDir)).toHaveLength(1);

    expect(runCli(team, ['promote', 'fraud@v2', '--to', 'production', '--push', '--yes']).code).toBe(0);
    const barriers = new Barriers();
    barriers.arm('watch-download');
    const w = spawn(process.execPath, [BIN, ...args, '--interval', '1s', '--json'], { cwd: host, env: cliEnv({ CI: '1', ...barriers.env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    w.stdout!.on('data', (b: Buffer) => (text += b.toString('utf8')));
    let errText = '';
    w.stderr!.on('data', (b: Buffer) => (errText += b.toString('utf8')));
    const code = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
    await barriers.reached('watch-download');
    w.kill('SIGTERM');
    barriers.release('watch-download');
    expect(await code, `${text}\n${errText}`).toBe(130);
    expect(text).not.toContain('"event":"deployed"');
    expect(realpathSync(out)).toBe(v1Folder);
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('one\n');
    expect(readdirSync(versionsDir)).toEqual([v1Folder.split('/').pop()]);
    expect(readdirSync(host).sort()).toEqual(['.model.modelctl-watch', 'model']);

    const again = runCli(host, [...args, '--once', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('"event":"deployed"');
    expect(readFileSync(join(out, 'model/w.bin')).equals(pseudoRandomBytes(24 * 1024 * 1024, 7))).toBe(true);
  }, 90_000);
});
