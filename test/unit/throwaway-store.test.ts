/**
 * Throwaway stores skip fsyncs (docs/design.md §5, "Throwaway stores"); a repository's own
 * store and the serve/watch cache keep them. The flush tests use a descriptor that is already
 * closed: an fsync on it fails with EBADF, so a flush that skips its fsync is told apart from
 * one that makes it.
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundFlush } from '../../src/store/file-flush.js';
import { openScratchRepository, withScratchRepository, withTemporaryRepository } from '../../src/workspace/repository.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelctl-throwaway-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const closedFd = () => {
  const fd = openSync(join(dir, 'f'), 'w');
  closeSync(fd);
  return fd;
};
const policy = { keepAfter: () => false, busy: () => new Error('busy') };

describe('throwaway stores', () => {
  it("a repository-less pull's scratch store fsyncs nothing and its index runs unsynchronised", async () => {
    await withScratchRepository(join(dir, '.modelctl-pull'), { cwd: dir }, policy, (repo) => {
      expect(repo.store.durable).toBe(false);
      expect(repo.db.pragma('synchronous', { simple: true })).toBe(0);
      return Promise.resolve();
    });
  });

  it('the temporary store of a --remote read is throwaway too', async () => {
    await withTemporaryRepository({ cwd: dir }, (repo) => {
      expect(repo.store.durable).toBe(false);
      expect(repo.db.pragma('synchronous', { simple: true })).toBe(0);
    });
  });

  it('a scratch store opened as a lasting cache (serve, watch) stays durable, index FULL', () => {
    const repo = openScratchRepository(join(dir, 'cache'), { cwd: dir });
    try {
      expect(repo.store.durable).toBe(true);
      expect(repo.db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      repo.close();
    }
  });

  it('a durable flush fsyncs at the end (EBADF on a closed descriptor); a throwaway one does not', async () => {
    await expect(new BackgroundFlush(closedFd()).finish()).rejects.toMatchObject({ code: 'EBADF' });
    const flush = new BackgroundFlush(closedFd(), false);
    flush.wrote(128 * 1024 * 1024);
    await expect(flush.finish()).resolves.toBeUndefined();
  });
});
