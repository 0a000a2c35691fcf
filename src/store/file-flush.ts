import { fdatasync, fsync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isFolderSyncRefusal } from './parallel-hash.js';

/** Bytes written between two background flushes. */
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;

const promised = (fn: typeof fsync, fd: number) =>
  new Promise<void>((resolve, reject) => fn(fd, (err) => (err ? reject(err) : resolve())));

/**
 * Makes a file that is being written durable without paying for it all at the end: every
 * FLUSH_EVERY_BYTES written, an fdatasync starts in the background (on libuv's thread
 * pool, one at a time), so the disk writes back while more bytes arrive and the final
 * fsync (`finish`) finds little left to do. Why: on a shared disk, the fsync of a 1 GiB
 * file written in one go took 1–9 s after the download itself had ended.
 */
export class BackgroundFlush {
  private pending: Promise<void> | undefined;
  private unflushed = 0;

  /**
   * `durable` false (a throwaway store, ObjectStore.durable): no final fsync, but the
   * background flushes still run. The scratch store's files are moved into `--out`, where the
   * placement record's fsync commits the file system's journal, and on ext4 (data=ordered)
   * that commit writes back every dirty byte of the files renamed with it: unflushed, a 1 GiB
   * pull then waited ~600 ms in that one fsync after its download (docs/design.md §5,
   * "Throwaway stores"). Flushed in the background, the disk writes while the network reads.
   */
  constructor(
    private readonly fd: number,
    private readonly durable = true,
  ) {}

  /** Counts `bytes` written to the file; may start a background flush. */
  wrote(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < FLUSH_EVERY_BYTES || this.pending) return;
    this.unflushed = 0;
    // A failure here is reported by finish(): fsync fails the same way.
    this.pending = promised(fdatasync, this.fd)
      .catch(() => undefined)
      .finally(() => {
        this.pending = undefined;
      });
  }

  /** Waits for a background flush in progress (before the descriptor may be closed). */
  async settle(): Promise<void> {
    await this.pending;
  }

  /** Waits for a flush in progress, then fsyncs the file; throws the fsync's error. */
  async finish(): Promise<void> {
    await this.settle();
    if (this.durable) await promised(fsync, this.fd);
  }
}

/**
 * fsyncs every folder of `dirs` (each once), several at a time on libuv's thread pool, so
 * renames into them survive a power loss; a file system that refuses fsync on folders is
 * not an error (the renames are still atomic). Why async: a batch of downloaded objects
 * lands in up to 256 folders, and one synchronous fsync after another held the thread
 * that should be receiving the next files.
 */
export async function fsyncFolders(dirs: Iterable<string>): Promise<void> {
  await Promise.all(
    [...new Set(dirs)].map(async (dir) => {
      let handle: FileHandle | undefined;
      try {
        handle = await open(dir, 'r');
        await handle.sync();
      } catch (err) {
        if (!isFolderSyncRefusal(err)) throw err;
      } finally {
        await handle?.close();
      }
    }),
  );
}
