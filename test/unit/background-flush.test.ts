/**
 * BackgroundFlush (store/file-flush.ts): every 64 MiB written it starts an fdatasync in the
 * background, one at a time; `finish` fsyncs only a durable file. A throwaway store's file
 * (a repository-less pull's) is flushed in the background too, so the placement record's
 * fsync in --out does not wait for a gigabyte of dirty pages (docs/design.md §5,
 * "Throwaway stores"). node:fs is wrapped to count the calls; each one still runs.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ fdatasync: 0, fsync: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fdatasync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      calls.fdatasync++;
      fs.fdatasync(fd, cb);
    },
    fsync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      calls.fsync++;
      fs.fsync(fd, cb);
    },
  };
});
const { BackgroundFlush } = await import('../../src/store/file-flush.js');

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'modelctl-flush-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  calls.fdatasync = 0;
  calls.fsync = 0;
});

/** A file with a few bytes written, whose descriptor `use` gets (closed afterwards). */
async function withFile(use: (fd: number) => Promise<void>): Promise<void> {
  const fd = openSync(join(dir, `f-${Math.random()}`), 'w');
  try {
    writeSync(fd, Buffer.alloc(4096, 1));
    await use(fd);
  } finally {
    closeSync(fd);
  }
}

describe('background flushes', () => {
  for (const durable of [true, false]) {
    it(`${durable ? 'a durable' : 'a throwaway'} file starts one flush per 64 MiB written, never two at once${durable ? ', and fsyncs at the end' : ', and skips the final fsync'}`, async () => {
      await withFile(async (fd) => {
        const flush = new BackgroundFlush(fd, durable);
        flush.wrote(63 * MiB);
        expect(calls.fdatasync).toBe(0);
        flush.wrote(1 * MiB);
        expect(calls.fdatasync).toBe(1);
        // Another 64 MiB while that flush is still running: no second one at the same time.
        flush.wrote(64 * MiB);
        expect(calls.fdatasync).toBe(1);
        await flush.settle();
        flush.wrote(64 * MiB);
        expect(calls.fdatasync).toBe(2);
        await flush.finish();
        expect(calls.fsync).toBe(durable ? 1 : 0);
      });
    });
  }
});
