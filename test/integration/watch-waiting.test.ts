/**
 * `watch` of a reference the remote cannot resolve yet keeps waiting, but says why: a model
 * the remote does not hold is most often a typo (`frud@production`), so it is a warning that
 * names the remote's closest models, and so is a stage a letter away from one the remote knows.
 * `--once` has no later look: a model the remote lacks, or (where the stage names are known) a
 * name that is no stage, is its error (exit 3), leaving no state folder; a stage nobody holds
 * yet is still a waiting look (exit 0).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promoteIn } from '../helpers/setup-api.js';
import { pushedTeam } from './watch-helpers.js';
import { BIN, cliEnv, runCli, tempDir } from '../helpers/temp-repo.js';

interface WatchLine {
  level: string;
  event: string;
  message: string;
  data?: { code?: string; candidates?: string[] };
}

const lines = (stdout: string): WatchLine[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as WatchLine);

describe('watch while nothing resolves', () => {
  it('names the closest model for a model the remote lacks; with --once that is the error, and no state folder is left', async () => {
    const { team, registry } = await pushedTeam();
    const host = tempDir();

    // Before, this exited 0 (a 'waiting' warning) and left .c.modelctl-watch/ behind.
    const typo = runCli(host, ['watch', 'frud@production', '--remote', registry, '--out', 'c', '--once', '--json']);
    expect(typo.code).toBe(3);
    expect(typo.error().code).toBe('UNKNOWN_MODEL');
    expect(typo.error().message).toContain("did you mean 'fraud'?");
    expect(typo.error().data?.candidates).toEqual(['fraud']);
    expect(readdirSync(host)).toEqual([]);
    const state = join(host, 'state');
    expect(runCli(host, ['watch', 'frud@production', '--remote', registry, '--exec', 'true', '--state', state, '--once', '--json']).code).toBe(3);
    expect(existsSync(state)).toBe(false);

    // A known model whose stage nobody holds yet is plain waiting.
    const empty = runCli(host, ['watch', 'fraud@production', '--remote', registry, '--exec', 'true', '--once', '--json']);
    const plain = lines(empty.stdout).find((l) => l.event === 'waiting');
    expect(plain?.level).toBe('info');
    expect(plain?.message).not.toContain('looking again');

    // A typo'd stage, one letter from a stage the remote knows, is a warning naming it.
    await promoteIn(team, 'fraud@v1', 'staging', { push: true });
    const stageTypo = runCli(host, ['watch', 'fraud@stagign', '--remote', registry, '--exec', 'true', '--once', '--json']);
    expect(stageTypo.code).toBe(0);
    const typoLine = lines(stageTypo.stdout).find((l) => l.event === 'waiting');
    expect(typoLine?.level).toBe('warn');
    expect(typoLine?.data?.candidates).toEqual(['fraud@staging']);
    // …while the stage nobody holds yet is still plain waiting.
    expect(lines(runCli(host, ['watch', 'fraud@production', '--remote', registry, '--exec', 'true', '--once', '--json']).stdout).find((l) => l.event === 'waiting')?.level).toBe('info');
  });

  it('in a repository (stage names known), --once of a name that is no stage exits 3 with the closest stage; a stage nobody holds is waiting', async () => {
    const { team, registry } = await pushedTeam({ promote: true });

    // Before, this exited 0 with "fraud@prod names no version yet — did you mean 'fraud@production'?".
    const typo = runCli(team, ['watch', 'fraud@prod', '--remote', registry, '--out', 'c', '--once', '--json']);
    expect(typo.code).toBe(3);
    expect(typo.error().code).toBe('UNKNOWN_STAGE');
    expect(typo.error().message).toContain("did you mean 'fraud@production'?");
    expect(existsSync(join(team, '.c.modelctl-watch'))).toBe(false);

    // A configured stage that holds no version yet: a look that worked, nothing to deploy.
    const empty = runCli(team, ['watch', 'fraud@staging', '--remote', registry, '--out', 'c', '--once', '--json']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(lines(empty.stdout).find((l) => l.event === 'waiting')?.level).toBe('info');
  });

  it('without --once, a model the remote lacks is waited for, with a warning at each look', async () => {
    const { registry } = await pushedTeam();
    const host = tempDir();
    const w = spawn(process.execPath, [BIN, 'watch', 'frud@production', '--remote', registry, '--out', join(host, 'c'), '--interval', '1s', '--json'], { cwd: host, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    w.stdout!.on('data', (b: Buffer) => (text += b.toString('utf8')));
    const code = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
    const waits = () => lines(text.slice(0, text.lastIndexOf('\n') + 1)).filter((l) => l.event === 'waiting');
    const end = Date.now() + 20_000;
    while (waits().length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    w.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(waits().length).toBeGreaterThanOrEqual(2);
    expect(waits()[0]).toMatchObject({ level: 'warn', data: { code: 'UNKNOWN_MODEL', candidates: ['fraud'] } });
    expect(waits()[0].message).toContain('looking again in 1s');
  }, 60_000);

  it('--once whose look fails (no registry at the remote) exits with the error, promising no retry', () => {
    const host = tempDir();
    const r = runCli(host, ['watch', 'fraud@production', '--remote', join(tempDir(), 'no-registry-here'), '--exec', 'true', '--once', '--json']);
    // Before, it said "trying again in 32s" and exited 0, so a cron job never saw the outage.
    expect(r.code).toBe(3);
    expect(r.error().code).toBe('NOT_A_REGISTRY');
    const retry = lines(r.stdout).find((l) => l.event === 'retrying');
    expect(retry?.message).not.toContain('trying again');
  });
});
