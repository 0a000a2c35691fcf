/**
 * A `.modelctl/` whose index.db was deleted still holds its versions. Every command says so
 * and names `verify --rebuild-index` (exit 6), from the root or a folder below it; `init`
 * refuses to start an empty index beside them. Found by deleting index.db by hand: commands
 * said "has modelctl.json but no .modelctl/ (a fresh clone?)" and sent the user to `init`,
 * which created an empty index, after which `log` said "no model named 'face'".
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('a repository whose index was deleted', () => {
  it('is named as such by every command, init refuses, and the rebuild its hint names brings the versions back', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/a.bin', pseudoRandomBytes(50_000, 1));
    await commitIn(repo, 'fraud', ['m'], 'one');
    for (const f of ['index.db', 'index.db-wal', 'index.db-shm']) rmSync(join(repo, '.modelctl', f), { force: true });
    mkdirSync(join(repo, 'sub'));

    for (const args of [['log', 'fraud'], ['status'], ['pull', 'fraud@v1'], ['init']]) {
      const r = runCli(repo, [...args, '--json']);
      expect(r.code, args.join(' ')).toBe(6);
      expect(r.error().code).toBe('INDEX_MISSING');
      expect(r.error().hint).toContain('modelctl verify --rebuild-index');
    }
    const below = runCli(join(repo, 'sub'), ['ls', '--json']);
    expect(below.code).toBe(6);
    expect(below.error().hint).toContain(`--rebuild-index\` in ${repo}`);

    const rebuilt = runCli(join(repo, 'sub'), ['verify', '--rebuild-index']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const log = runCli(repo, ['log', 'fraud', '--json']);
    expect(log.code, log.stderr).toBe(0);
    expect(JSON.stringify(log.json())).toContain('fraud@v1');
    expect(runCli(repo, ['verify']).code).toBe(0);
  });

  it('a .modelctl/ with no versions in it (an interrupted first init) is still just not a repository yet', () => {
    const repo = tempRepo();
    for (const f of ['index.db', 'index.db-wal', 'index.db-shm', 'journal.jsonl']) rmSync(join(repo, '.modelctl', f), { force: true });
    const r = runCli(repo, ['ls', '--json']);
    expect(r.code).toBe(3);
    expect(r.error().code).toBe('NOT_A_REPOSITORY');
    expect(runCli(repo, ['init']).code).toBe(0);
    expect(runCli(repo, ['ls']).code).toBe(0);
  });
});
