/**
 * A pull counts every chunk it did not download as reused — also those of files whose object
 * the store already holds (brought by an earlier pull into another folder, or adopted by a
 * pull interrupted before it recorded the object). Before, such a pull said "0 chunks
 * downloaded (0 B), 0 reused; 1 file written", which read as if the file came from nowhere.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, runCli, tempRepo, tempRepoWithFolderRemote, writeFile } from '../helpers/temp-repo.js';

describe('pull: chunks of objects already in the store count as reused', () => {
  it('recorded and unrecorded objects alike; the unrecorded one is recorded again', () => {
    const { repo: team, registry } = tempRepoWithFolderRemote();
    const weights = pseudoRandomBytes(3 * 1024 * 1024, 7);
    writeFile(team, 'model/w.bin', weights);
    expect(runCli(team, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    expect(runCli(team, ['push']).code).toBe(0);
    const file = (runCli(team, ['show', 'm@v1', '--json']).json().files as { digest: string }[])[0];
    const chunks = (JSON.parse(readFileSync(join(registry, 'files', `${file.digest}.json`), 'utf8')) as { chunks: unknown[] }).chunks.length;
    expect(chunks).toBeGreaterThan(1);

    const mine = tempRepo();
    expect(runCli(mine, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    const first = runCli(mine, ['pull', 'm@v1', '--out', 'o1', '--json']);
    expect(first.code).toBe(0);
    expect(first.json().download).toMatchObject({ chunksDownloaded: chunks, chunksReused: 0 });

    // The object is in the store: nothing to download, every chunk reused.
    const second = runCli(mine, ['pull', 'm@v1', '--out', 'o2']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`0 chunks downloaded (0 B), ${chunks} reused`);

    // As an interrupted pull leaves it: the object adopted, its index rows not yet written.
    const db = new Database(join(mine, '.modelctl', 'index.db'));
    db.prepare('DELETE FROM objects WHERE digest = ?').run(file.digest);
    db.prepare('DELETE FROM chunks WHERE file_digest = ?').run(file.digest);
    db.close();
    const third = runCli(mine, ['pull', 'm@v1', '--out', 'o3', '--json']);
    expect(third.code).toBe(0);
    expect(third.json().download).toMatchObject({ chunksDownloaded: 0, chunksReused: chunks });
    expect(readFileSync(join(mine, 'o3', 'model', 'w.bin')).equals(weights)).toBe(true);
    const after = new Database(join(mine, '.modelctl', 'index.db'), { readonly: true });
    expect(after.prepare('SELECT chunk_count AS n FROM objects WHERE digest = ?').get(file.digest)).toEqual({ n: chunks });
    after.close();
    expect(existsSync(join(mine, 'o3', '.modelctl-pull'))).toBe(false);
    expect(runCli(mine, ['verify', 'm@v1']).code).toBe(0);
  });
});
