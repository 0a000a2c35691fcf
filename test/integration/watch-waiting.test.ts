/**
 * `watch` of a reference the remote cannot resolve yet keeps waiting, but says why: a model
 * the remote does not hold is most often a typo (`frud@production`), so it is a warning that
 * names the remote's closest models, and so is a stage a letter away from one the remote knows;
 * and `--once` does not promise to look again.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeFile, tempRepoWithFolderRemote } from '../helpers/temp-repo.js';

interface WatchLine {
  level: string;
  event: string;
  message: string;
  data?: { code?: string; candidates?: string[] };
}

const lines = (stdout: string): WatchLine[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as WatchLine);

describe('watch while nothing resolves', () => {
  it('names the closest model for a model the remote lacks, and --once promises no second look', () => {
    const { repo: team, registry } = tempRepoWithFolderRemote();
    writeFile(team, 'model/w.bin', 'one\n');
    expect(runCli(team, ['commit', 'fraud', 'model/', '-m', 'one']).code).toBe(0);
    expect(runCli(team, ['push']).code).toBe(0);
    const host = tempDir();

    const typo = runCli(host, ['watch', 'frud@production', '--remote', registry, '--exec', 'true', '--once', '--json']);
    expect(typo.code).toBe(0);
    const waiting = lines(typo.stdout).find((l) => l.event === 'waiting');
    expect(waiting?.level).toBe('warn');
    expect(waiting?.data?.code).toBe('UNKNOWN_MODEL');
    expect(waiting?.data?.candidates).toEqual(['fraud']);
    expect(waiting?.message).not.toContain('looking again');

    // A known model whose stage nobody holds yet is plain waiting.
    const empty = runCli(host, ['watch', 'fraud@production', '--remote', registry, '--exec', 'true', '--once', '--json']);
    const plain = lines(empty.stdout).find((l) => l.event === 'waiting');
    expect(plain?.level).toBe('info');
    expect(plain?.message).not.toContain('looking again');

    // A typo'd stage, one letter from a stage the remote knows, is a warning naming it.
    expect(runCli(team, ['promote', 'fraud@v1', '--to', 'staging', '--push']).code).toBe(0);
    const stageTypo = runCli(host, ['watch', 'fraud@stagign', '--remote', registry, '--exec', 'true', '--once', '--json']);
    expect(stageTypo.code).toBe(0);
    const typoLine = lines(stageTypo.stdout).find((l) => l.event === 'waiting');
    expect(typoLine?.level).toBe('warn');
    expect(typoLine?.data?.candidates).toEqual(['fraud@staging']);
    // …while the stage nobody holds yet is still plain waiting.
    expect(lines(runCli(host, ['watch', 'fraud@production', '--remote', registry, '--exec', 'true', '--once', '--json']).stdout).find((l) => l.event === 'waiting')?.level).toBe('info');
  });

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
