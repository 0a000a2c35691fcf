/**
 * Downloading one blob into a partial file, verifying its sha256 while it streams and
 * resuming with `Range` after a dropped connection or an interrupted run (the partial file
 * is the resume point). Bytes that do not hash to the blob's digest are refused: the
 * partial file is removed and nothing is kept.
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
 * Makes `partialPath` hold the blob `sha256` (`size` bytes) of `repo`, continuing a partial
 * file left by an earlier attempt. Throws IntegrityError `BLOB_DIGEST_MISMATCH` (6) when the
 * bytes do not hash to the digest or exceed the size (the partial file is removed),
 * NotFoundError `BLOB_MISSING` (3) when the registry lacks the blob, RemoteError (7) after
 * the retries. `onBytes(n)` reports each `n` bytes newly written.
 */
export async function downloadBlob(repo: RegistryRepository, sha256: string, size: number, partialPath: string, onBytes?: (n: number) => void): Promise<void> {
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
    let hash = createHash('sha256');
    if (have > size) {
      await fh.truncate(0);
      have = 0;
    }
    if (have > 0) await hashPrefix(partialPath, have, hash);
    const startOver = async () => {
      await fh.truncate(0);
      have = 0;
      hash = createHash('sha256');
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
        have = await writeStream(fh, got.res.stream!, have, size, hash, onBytes);
        break;
      } catch (err) {
        if (err instanceof ModelctlError || attempt + 1 >= ATTEMPTS) throw err;
        have = (await fh.stat()).size; // the connection dropped mid-blob: ask for the rest
      }
    }
    if (have !== size || hash.digest('hex') !== sha256) throw mismatch(sha256, repo);
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

/** Writes the stream at `offset`, hashing as it goes; returns the new length. Refuses more than `size` bytes. */
async function writeStream(fh: FileHandle, stream: NodeJS.ReadableStream, offset: number, size: number, hash: Hash, onBytes?: (n: number) => void): Promise<number> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let position = offset;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    const n = pendingBytes;
    pendingBytes = 0;
    hash.update(buf);
    let written = 0;
    while (written < n) written += (await fh.write(buf, written, n - written, position + written)).bytesWritten;
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
    if (!(err instanceof IntegrityError)) await flush().catch(() => undefined);
    throw err;
  }
  return position;
}

async function hashPrefix(path: string, length: number, hash: Hash): Promise<void> {
  for await (const c of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) hash.update(c as Buffer);
}
