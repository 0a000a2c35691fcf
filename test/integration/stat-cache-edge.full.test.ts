/**
 * The stat cache: files whose size, mtime, ctime and inode are unchanged are not read
 * again by status or commit; any change to that key re-hashes the file (and only it).
 */
import { renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit } from '../../src/api/commit.js';
import { openRepository } from '../../src/api/repository.js';
import { status } from '../../src/api/status.js';
import { forEachVersionFileWithStatCache, type VersionFileCacheRow } from '../../src/store/stat-cache-table.js';
import { pseudoRandomBytes, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { folderRepo, pastRacyWindow, repoWithFiles, modelStatus } from '../helpers/stat-cache.js';

describe.concurrent('stat cache', () => {

  it('a content change that keeps size, mtime and inode is caught by ctime', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin']);
    expect(modelStatus(await status({ cwd: root, model: 'm' })).rehashed).toBe(0);
    const p = join(root, 'model/a.bin');
    // Whole-second times, which utimes sets exactly (a Date loses the nanoseconds), cached
    // once they are older than the racy window.
    const t = Math.floor(Date.now() / 1000) - 10;
    utimesSync(p, t, t);
    await pastRacyWindow();
    expect(modelStatus(await status({ cwd: root, model: 'm' })).rehashed).toBe(1);
    const before = statSync(p, { bigint: true });
    const bytes = pseudoRandomBytes(5000, 77); // same size as a.bin, other bytes
    writeFileSync(p, bytes);
    utimesSync(p, t, t); // put the old mtime back: only ctime tells
    const after = statSync(p, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s.rehashed).toBe(1);
    expect(s.modified.map((f) => f.path)).toEqual(['model/a.bin']);
  });

  it('a file replaced by another inode with the same size and times is re-hashed', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin']);
    const p = join(root, 'model/b.bin');
    const { mtime, atime } = await import('node:fs').then((fs) => fs.statSync(p));
    writeFile(root, 'tmp.bin', pseudoRandomBytes(5100, 99));
    utimesSync(join(root, 'tmp.bin'), atime, mtime);
    renameSync(join(root, 'tmp.bin'), p);
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s.rehashed).toBe(1);
    expect(s.modified.map((f) => f.path)).toEqual(['model/b.bin']);
  });

  it('a file hashed within the racy window is read again by every status, and a same-size edit is seen', async () => {
    const root = tempRepo();
    const p = writeFile(root, 'model/a.bin', pseudoRandomBytes(4000, 5));
    // Committed at once: its mtime and ctime are within two seconds of the hash.
    expect((await commit({ cwd: root, model: 'm', paths: ['model'] })).hashedFiles).toBe(1);
    expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ clean: true, rehashed: 1 });
    // Other bytes, same size, the mtime as it was (what a write in the same clock tick leaves;
    // only the new ctime tells, and the file is read anyway).
    const t = Math.floor(Date.now() / 1000) - 10;
    utimesSync(p, t, t);
    expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ clean: true, rehashed: 1 });
    writeFileSync(p, pseudoRandomBytes(4000, 6));
    utimesSync(p, t, t);
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s).toMatchObject({ clean: false, rehashed: 1 });
    expect(s.modified.map((f) => f.path)).toEqual(['model/a.bin']);
  });

  it('a committed file replaced by a folder is reported as not a file', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin']);
    rmSync(join(root, 'model/a.bin'));
    writeFile(root, 'model/a.bin/inner.bin', 'inner');
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s.notRegular).toEqual([{ path: 'model/a.bin', kind: 'folder' }]);
    expect(s).toMatchObject({ clean: false, unchanged: 1, modified: [], deleted: [] });
  });

  it('reads every file of a version of more than one page of rows (500), with the first and last of each page', async () => {
    const root = tempRepo();
    const names = Array.from({ length: 1203 }, (_, i) => `model/f${String(i).padStart(4, '0')}.bin`);
    names.forEach((n, i) => writeFile(root, n, `file ${i}`));
    await pastRacyWindow();
    expect((await commit({ cwd: root, model: 'm', paths: ['model'] })).hashedFiles).toBe(1203);
    expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ clean: true, rehashed: 0, unchanged: 1203 });
    // Paths are in order: rows 0, 499 | 500, 999 | 1000, 1202 start and end the pages.
    const gone = [0, 499, 500, 999, 1000, 1202].map((i) => names[i]);
    for (const n of gone) rmSync(join(root, n));
    writeFile(root, names[501], 'edited');
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s.deleted.map((f) => f.path)).toEqual(gone);
    expect(s.modified.map((f) => f.path)).toEqual([names[501]]);
    expect(s).toMatchObject({ unchanged: 1203 - 7, rehashed: 1 });
  });

  it("reads the version's stat cache rows under Windows paths too (the '/' of manifest paths become the separator)", async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin']);
    const repo = await openRepository({ cwd: root });
    try {
      const version = repo.db.prepare('SELECT id FROM versions').get() as { id: string };
      const put = repo.db.prepare('INSERT INTO stat_cache (path, size, mtime_ns, ctime_ns, ino, digest) VALUES (?, ?, ?, ?, ?, ?)');
      const digestOfA = (repo.db.prepare("SELECT digest FROM files WHERE path = 'model/a.bin'").get() as { digest: string }).digest;
      put.run('C:\\repo\\model\\a.bin', 5000, '11', '12', '13', digestOfA);
      put.run('C:\\repo\\model\\b.bin', 5100, '21', '22', '23', 'f'.repeat(64));
      const rows: VersionFileCacheRow[] = [];
      forEachVersionFileWithStatCache(repo.db, version.id, 'C:\\repo\\', '\\', (r) => rows.push(r));
      expect(rows.map((r) => [r[0], ...r.slice(3)])).toEqual([
        ['model/a.bin', 5000, '11', '12', '13', 1],
        ['model/b.bin', 5100, '21', '22', '23', 0],
      ]);
    } finally {
      repo.close();
    }
  });
});

describe.concurrent('folder-listing cache (status of a model with a folder in its paths)', () => {
  it('is not used across a symbolic link (its target can change unseen)', async () => {
    const root = await folderRepo();
    const outside = join(root, 'elsewhere');
    writeFile(root, 'elsewhere/one.bin', '1');
    symlinkSync(outside, join(root, 'model/linked'));
    await pastRacyWindow();
    expect(modelStatus(await status({ cwd: root, model: 'm' })).added.map((f) => f.path)).toEqual(['model/linked/one.bin']);
    // A file appears in the target: no folder under model/ changes, status must still see it.
    writeFile(root, 'elsewhere/two.bin', '2');
    expect(modelStatus(await status({ cwd: root, model: 'm' })).added.map((f) => f.path)).toEqual(['model/linked/one.bin', 'model/linked/two.bin']);
  });
});
