/**
 * Downloading one blob into a partial file, verifying it while it streams (its sha256, and/or
 * a caller's observer such as modelctl's chunk hashing) and resuming with `Range` after a
 * dropped connection or an interrupted run (the partial file is the resume point). Bytes
 * that fail the check are refused: the partial file is removed and nothing is kept.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { IntegrityError, ModelctlError, NotFoundError, fsError } from '../../errors.js';
import type { RegistryRepository } from './registry-repository.js';

/** Bytes gathered before one write: fewer, larger writes than the socket's 16–64 KiB pieces. */
const WRITE_BYTES = 1024 * 1024;
const ATTEMPTS = 5;

/**
 * What else sees the bytes as they arrive, in order from byte 0: a second check (modelctl's
 * chunk hashing) that runs in the same pass. `reset` means "start again from byte 0".
 */
export interface ByteObserver {
  update(bytes: Buffer): void;
  reset(): void;
}

/** How a blob's bytes are checked while they stream. */
export interface DownloadChecks {
  /** Check the bytes against the blob's sha256 (default true); a caller whose observer is a stronger check may leave it out. */
  sha256?: boolean;
  observer?: ByteObserver;
  /** Reports each `n` bytes newly written. */
  onBytes?: (n: number) => void;
}

/**
 * Makes `partialPath` hold the blob `sha256` (`size` bytes) of `repo`, continuing a partial
 * file left by an earlier attempt. Throws IntegrityError `BLOB_DIGEST_MISMATCH` (6) when the
 * bytes do not hash to the digest or exceed the size (the partial file is removed),
 * NotFoundError `BLOB_MISSING` (3) when the registry lacks the blob, RemoteError (7) after
 * the retries.
 */
export async function downloadBlob(repo: RegistryRepository, sha256: string, size: number, partialPath: string, checksOrOnBytes?: DownloadChecks | ((n: number) => void)): Promise<void> {
  const checks: DownloadChecks = typeof checksOrOnBytes === 'function' ? { onBytes: checksOrOnBytes } : (checksOrOnBytes ?? {});
  const onBytes = checks.onBytes;
  const verifySha = checks.sha256 !== false;
  const observer = checks.observer;
  let fh: FileHandle;
  try {
    // 'a+' creates without truncating; positional writes need 'r+'.
    await (await open(partialPath, 'a+', 0o600)).close();
    fh = await open(partialPath, 'r+');
  } catch (err) {
    throw fsError(err, partialPath);
  }
  let failed = false;
  try {
    let have = (await fh.stat()).size;
    let hash: Hash | null = verifySha ? createHash('sha256') : null;
    if (have > size) {
      await fh.truncate(0);
      have = 0;
    }
    const sink = (b: Buffer) => {
      hash?.update(b);
      observer?.update(b);
    };
    if (have > 0) await readPrefix(partialPath, have, sink);
    const startOver = async () => {
      await fh.truncate(0);
      have = 0;
      hash = verifySha ? createHash('sha256') : null;
      observer?.reset();
    };
    for (let attempt = 0; have < size || (size === 0 && attempt === 0); attempt++) {
      const got = await repo.getBlob(`sha256:${sha256}`, have);
      if (!got) throw new NotFoundError('BLOB_MISSING', `blob sha256:${sha256.slice(0, 12)} is missing from ${repo.client.registry}/${repo.name}`, { hint: 'the artifact was not pushed completely; push it again' });
      if (got.from === -1) {
        // 416: the registry has fewer bytes than the partial file: it is not this blob's prefix.
        if (attempt + 1 >= ATTEMPTS) throw mismatch(sha256, repo);
        await startOver();
        continue;
      }
      if (got.from === 0 && have > 0) await startOver(); // Range not honoured: the answer starts at byte 0
      try {
        have = await writeStream(fh, partialPath, got.res.stream!, have, size, sink, onBytes);
        break;
      } catch (err) {
        if (err instanceof ModelctlError || attempt + 1 >= ATTEMPTS) throw err;
        have = (await fh.stat()).size; // the connection dropped mid-blob: ask for the rest
      }
    }
    if (have !== size || (hash && hash.digest('hex') !== sha256)) throw mismatch(sha256, repo);
    await fh.sync();
  } catch (err) {
    failed = err instanceof IntegrityError;
    throw err;
  } finally {
    await fh.close();
    if (failed) await rm(partialPath, { force: true });
  }
}

function mismatch(sha256: string, repo: RegistryRepository): IntegrityError {
  return new IntegrityError('BLOB_DIGEST_MISMATCH', `blob sha256:${sha256.slice(0, 12)} from ${repo.client.registry}/${repo.name} does not hash to its digest`, {
    hint: 'the registry copy is corrupt or was tampered with; nothing was stored',
  });
}

/** Writes the stream at `offset`, every byte through `sink` on the way; returns the new length. Refuses more than `size` bytes. */
async function writeStream(fh: FileHandle, path: string, stream: NodeJS.ReadableStream, offset: number, size: number, sink: (b: Buffer) => void, onBytes?: (n: number) => void): Promise<number> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let position = offset;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const bufs = pending;
    const n = pendingBytes;
    pending = [];
    pendingBytes = 0;
    // One writev of the socket's pieces (no copy into a bigger buffer), hashed while the
    // thread pool writes them. The checks must see exactly the bytes the file holds (a retry
    // resumes at the file's length), so a failed write ends the download instead of retrying.
    const writing = fh.writev(bufs, position);
    for (const b of bufs) sink(b);
    try {
      let written = (await writing).bytesWritten;
      if (written < n) {
        const all = Buffer.concat(bufs, n);
        while (written < n) written += (await fh.write(all, written, n - written, position + written)).bytesWritten;
      }
    } catch (err) {
      throw fsError(err, path);
    }
    position += n;
    onBytes?.(n);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (position + pendingBytes + chunk.length > size) {
        (stream as { destroy?: () => void }).destroy?.();
        throw new IntegrityError('BLOB_DIGEST_MISMATCH', `a blob from the registry is longer than the ${size} bytes its descriptor says`, { hint: 'the registry copy is corrupt or was tampered with; nothing was stored' });
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BYTES) await flush();
    }
    await flush();
  } catch (err) {
    // Keep what arrived intact so the next attempt resumes after it.
    if (!(err instanceof ModelctlError)) await flush();
    throw err;
  }
  return position;
}

async function readPrefix(path: string, length: number, sink: (b: Buffer) => void): Promise<void> {
  for await (const c of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) sink(c as Buffer);
}
