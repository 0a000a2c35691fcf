/**
 * The stat cache: files whose size, mtime, ctime and inode are unchanged are not read
 * again by status or commit; any change to that key re-hashes the file (and only it).
 */
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit } from '../../src/api/commit.js';
import { status } from '../../src/api/status.js';
import { pseudoRandomBytes, writeFile } from '../helpers/temp-repo.js';
import { folderRepo, pastRacyWindow, repoWithFiles, modelStatus } from '../helpers/stat-cache.js';

describe.concurrent('stat cache', () => {
  it('status reads nothing when no stat changed, then re-hashes exactly the touched file', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin', 'c.bin', 'd.bin']);
    const clean = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(clean).toMatchObject({ clean: true, rehashed: 0, unchanged: 4 });

    // Same bytes, new mtime: read again (the content is unchanged, so still clean).
    const later = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'model/b.bin'), later, later);
    const touched = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(touched).toMatchObject({ clean: true, rehashed: 1, unchanged: 4 });

    // Its ctime was new, so that read was not cached ("racily clean"); once the change is
    // older than the window, the next read is cached and later runs read nothing.
    await pastRacyWindow();
    expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ rehashed: 1 });
    expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ rehashed: 0 });
  });

  it('commit re-hashes only changed files and reports how many it read', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin', 'c.bin']);
    writeFile(root, 'model/c.bin', pseudoRandomBytes(6000, 1234));
    const c = await commit({ cwd: root, model: 'm', paths: ['model'], message: 'second' });
    expect(c.created).toBe(true);
    expect(c.hashedFiles).toBe(1);
    expect(c.files.filter((f) => f.stored).map((f) => f.path)).toEqual(['model/c.bin']);
    // Nothing changed since: nothing is read, and nothing new is created.
    await pastRacyWindow();
    const again = await commit({ cwd: root, model: 'm', paths: ['model'], message: 'second' });
    expect(again.created).toBe(false);
    expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ clean: true, rehashed: 0 });
  });

  it('an edited file stays modified once the stat cache answers for its new bytes', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin', 'c.bin']);
    writeFile(root, 'model/b.bin', pseudoRandomBytes(7000, 555));
    const first = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(first).toMatchObject({ clean: false, rehashed: 1, unchanged: 2 });
    expect(first.modified).toEqual([{ path: 'model/b.bin', size: 7000, committedSize: 5100 }]);
    // Once the edit is older than the racy window its digest is cached; status then reads
    // nothing, and the cached digest (not the version's) still says modified.
    await pastRacyWindow();
    expect(modelStatus(await status({ cwd: root, model: 'm' })).rehashed).toBe(1);
    const cached = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(cached).toMatchObject({ clean: false, rehashed: 0, unchanged: 2 });
    expect(cached.modified).toEqual([{ path: 'model/b.bin', size: 7000, committedSize: 5100 }]);
    // Putting the committed bytes back (a new stat key) makes it clean again.
    writeFile(root, 'model/b.bin', pseudoRandomBytes(5100, 2));
    expect(modelStatus(await status({ cwd: root, model: 'm' }))).toMatchObject({ clean: true, rehashed: 1, unchanged: 3 });
  });

  it('a new file next to cached ones is reported added, and is the only one read', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin']);
    // modelctl.json names the folder: status then tracks what it holds, not only v1's files.
    const cfgPath = join(root, 'modelctl.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { models?: Record<string, unknown> };
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, models: { m: { paths: ['model'] } } }));
    writeFile(root, 'model/new.bin', 'new');
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s).toMatchObject({ clean: false, rehashed: 1, unchanged: 2, modified: [], deleted: [] });
    expect(s.added).toEqual([{ path: 'model/new.bin', size: 3 }]);
  });

  it('a deleted file is reported without being read', async () => {
    const root = await repoWithFiles(['a.bin', 'b.bin']);
    rmSync(join(root, 'model/a.bin'));
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s).toMatchObject({ clean: false, rehashed: 0, unchanged: 1 });
    expect(s.deleted.map((f) => f.path)).toEqual(['model/a.bin']);
  });
});

describe.concurrent('folder-listing cache (status of a model with a folder in its paths)', () => {
  it('sees a file added deep in the tree, a new folder and a removed file', async () => {
    const root = await folderRepo();
    writeFile(root, 'model/sub/deeper/new.bin', 'new');
    expect(modelStatus(await status({ cwd: root, model: 'm' })).added.map((f) => f.path)).toEqual(['model/sub/deeper/new.bin']);
    writeFile(root, 'model/other/x.bin', 'x');
    expect(modelStatus(await status({ cwd: root, model: 'm' })).added.map((f) => f.path)).toEqual(['model/other/x.bin', 'model/sub/deeper/new.bin']);
    rmSync(join(root, 'model/sub/deeper/new.bin'));
    rmSync(join(root, 'model/a.bin'));
    const s = modelStatus(await status({ cwd: root, model: 'm' }));
    expect(s.added.map((f) => f.path)).toEqual(['model/other/x.bin']);
    expect(s.deleted.map((f) => f.path)).toEqual(['model/a.bin']);
  });
});
