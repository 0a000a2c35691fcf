/**
 * A `--push` move killed between its remote write and its end (docs/design.md §7) must be
 * finished by running the same command again: not refused as "moved on the remote since this
 * repository last fetched it", which is the remote holding this very move. The kill lands
 * exactly in each window through the test barriers `ref-move-written` (on the remote, not yet
 * recorded here) and `ref-move-recorded` (recorded, its event not yet published).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { BIN, cliEnv, runCli, tempRepo, tempRepoWithFolderRemote, writeFile } from '../helpers/temp-repo.js';

/** Runs modelctl until it stops at `barrier`, then kills it with SIGKILL. */
async function killAt(cwd: string, args: string[], barrier: string): Promise<void> {
  const barriers = new Barriers();
  barriers.arm(barrier);
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv({ ...barriers.env, CI: '1', NO_COLOR: '1' }), stdio: 'ignore' });
  const closed = new Promise((r) => child.once('close', r));
  try {
    await barriers.reached(barrier);
  } finally {
    child.kill('SIGKILL');
    await closed;
  }
}

function twoVersions(): { repo: string; registry: string } {
  const t = tempRepoWithFolderRemote();
  writeFile(t.repo, 'model/w.bin', 'one');
  expect(runCli(t.repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
  writeFile(t.repo, 'model/w.bin', 'two');
  expect(runCli(t.repo, ['commit', 'm', 'model', '-m', 'two']).code).toBe(0);
  expect(runCli(t.repo, ['push']).code).toBe(0);
  expect(runCli(t.repo, ['promote', 'm@v1', '--to', 'staging', '--push', '--yes']).code).toBe(0);
  return t;
}

/** What a teammate sees: a fresh clone's view of the remote, and the remote's audit checked against its stage and tag documents. */
function teammateView(registry: string, ref: string): { id: string } {
  const c = tempRepo();
  expect(runCli(c, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
  expect(runCli(c, ['fetch']).code).toBe(0);
  const verified = runCli(c, ['history', 'm', '--verify', '--remote', 'origin']);
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  return runCli(c, ['show', ref, '--json']).json().version;
}

describe('a --push move killed midway, then run again', () => {
  for (const window of ['ref-move-written', 'ref-move-recorded']) {
    it(`promote --push killed at ${window}: the rerun finishes it (exit 0), here and on the remote, with one published event`, async () => {
      const { repo, registry } = twoVersions();
      const v2 = runCli(repo, ['show', 'm@v2', '--json']).json().version.id as string;
      await killAt(repo, ['promote', 'm@v2', '--to', 'staging', '--push', '--yes'], window);
      const again = runCli(repo, ['promote', 'm@v2', '--to', 'staging', '--push', '--yes', '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(runCli(repo, ['show', 'm@staging', '--json']).json().version.id).toBe(v2);
      expect(teammateView(registry, 'm@staging').id).toBe(v2);
      const moves = (runCli(repo, ['history', 'm', '--json']).json() as { action: string; version: string }[]).filter((e) => e.action === 'promote' && e.version === v2);
      expect(moves).toHaveLength(1);
      expect(runCli(repo, ['history', 'm', '--verify', '--remote', 'origin']).code).toBe(0);
    });
  }

  it('tag --push killed after its remote write: the rerun finishes it', async () => {
    const { repo, registry } = twoVersions();
    const v2 = runCli(repo, ['show', 'm@v2', '--json']).json().version.id as string;
    await killAt(repo, ['tag', 'm@v2', 'best', '--push'], 'ref-move-written');
    const again = runCli(repo, ['tag', 'm@v2', 'best', '--push']);
    expect(again.code, again.stderr).toBe(0);
    expect(teammateView(registry, 'm@best').id).toBe(v2);
  });

  it('a move to another version than the one on the remote is still refused as stale (exit 4)', async () => {
    const { repo } = twoVersions();
    await killAt(repo, ['promote', 'm@v2', '--to', 'staging', '--push', '--yes'], 'ref-move-written');
    const other = runCli(repo, ['promote', 'm@v1', '--to', 'production', '--push', '--yes']);
    expect(other.code, other.stderr).toBe(0); // another stage: untouched by the killed move
    const back = runCli(repo, ['promote', 'm@v1', '--to', 'staging', '--push', '--yes', '--json']);
    expect(back.code).toBe(4);
    expect(back.error().code).toBe('STAGE_MOVED');
  });
});
