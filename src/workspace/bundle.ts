/**
 * The bundle file format (`modelctl export` / `modelctl import`), format 1: a tar archive,
 * gzip-compressed when its name ends in `.gz`/`.tgz`, holding in this order
 *
 *   MODELCTL-BUNDLE.json         the marker: format, the version (id, model, number, tags,
 *                                stages at export), every object's digest and size, the event count
 *   versions/<id>.json           the version manifest, its bytes exactly as stored
 *   events/<NNNNNN>-<id>.json    the audit events about the version, canonical JSON, oldest first
 *   signatures/<id>/<hint>.sig   its signature bundles and   (only when the version has any; the
 *   attestations/<id>/<hint>.json  attestations, as stored;  marker then counts them, README)
 *   objects/<digest>             each distinct file's bytes, by file digest, sorted by digest
 *
 * Only regular-file entries are written or accepted. The order lets an importer verify as it
 * streams: it knows every expected name and size before the bytes arrive. This module holds
 * the format and the tar plumbing (tar is loaded lazily); api/bundle-*.ts hold the policy.
 */
import { chmodSync, closeSync, createReadStream, createWriteStream, fsyncSync, openSync, readSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as z from 'zod';
import { IntegrityError, ModelctlError, UsageError, fsError } from '../errors.js';
import { auditEventFields } from '../core/event-schema.js';
import { printable } from '../core/names.js';
import { parseSignatureKey, type SignatureObjectKind } from '../core/signature-layout.js';
import { unsafePathReason } from '../core/paths.js';
import { fsyncDir } from '../store/objects.js';
import { openRegularSync } from '../store/regular-file.js';
import { createTempFile, discardTempFile, releaseTempFile } from '../store/temp-files.js';

/** The marker's entry name: always the first entry of a bundle. */
export const BUNDLE_MARKER = 'MODELCTL-BUNDLE.json';
/** The bundle format this build writes and reads. */
export const BUNDLE_FORMAT = 1;
/** Limits that bound what a hostile bundle can make the importer read into memory. */
export const BUNDLE_LIMITS = {
  markerBytes: 128 * 1024 * 1024,
  manifestBytes: 256 * 1024 * 1024,
  eventBytes: 1024 * 1024,
  signatures: 1000,
  events: 100_000,
  objects: 1_000_000,
} as const;

const HEX64 = /^[0-9a-f]{64}$/;
const digest = z.string().regex(HEX64);

/** The marker's schema (zod): what a bundle claims to hold. */
export const bundleMarkerSchema = z.strictObject({
  kind: z.literal('modelctl-bundle'),
  format: z.number().int(),
  modelctl: z.string().max(64),
  exportedAt: z.iso.datetime(),
  version: z.strictObject({
    id: digest,
    model: z.string().max(300),
    number: z.number().int().positive(),
    tags: z.array(z.strictObject({ name: z.string().max(128), message: z.string().max(65536).nullable() })).max(10_000),
    stages: z.array(z.string().max(128)).max(1000),
  }),
  objects: z.array(z.strictObject({ digest, size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) })).max(BUNDLE_LIMITS.objects),
  events: z.number().int().nonnegative().max(BUNDLE_LIMITS.events),
  /** Signature and attestation bundles in the bundle; absent when none (older readers refuse the field). */
  signatures: z.number().int().positive().max(BUNDLE_LIMITS.signatures).optional(),
});
/** A validated bundle marker. */
export type BundleMarker = z.infer<typeof bundleMarkerSchema>;

/** An audit event as a bundle carries it (validated before it reaches the index). */
export const bundleEventSchema = z.strictObject(auditEventFields);

/** The entry name of each part. */
export const bundleNames = {
  version: (id: string) => `versions/${id}.json`,
  event: (index: number, id: string) => `events/${String(index).padStart(6, '0')}-${id}.json`,
  object: (fileDigest: string) => `objects/${fileDigest}`,
};

/** What an entry name is, or null for a name the format does not have. */
export type BundleEntryKind =
  | { kind: 'marker' }
  | { kind: 'version'; id: string }
  | { kind: 'event'; index: number; id: string }
  | { kind: 'signature'; versionId: string; signatureKind: SignatureObjectKind; hint: string }
  | { kind: 'object'; digest: string };

/** Classifies an entry name; null when it is not one of the format's names. */
export function classifyBundleEntry(name: string): BundleEntryKind | null {
  if (name === BUNDLE_MARKER) return { kind: 'marker' };
  let m = /^versions\/([0-9a-f]{64})\.json$/.exec(name);
  if (m) return { kind: 'version', id: m[1] };
  m = /^events\/([0-9]{6})-([0-9a-f]{64})\.json$/.exec(name);
  if (m) return { kind: 'event', index: Number(m[1]), id: m[2] };
  const signature = parseSignatureKey(name);
  if (signature) return { kind: 'signature', versionId: signature.versionId, signatureKind: signature.kind, hint: signature.hint };
  m = /^objects\/([0-9a-f]{64})$/.exec(name);
  if (m) return { kind: 'object', digest: m[1] };
  return null;
}

/** True when a file name asks for gzip (`.gz`, `.tgz`). */
export function wantsGzip(file: string): boolean {
  return /\.(t?gz)$/i.test(file);
}

/**
 * The archive kind a file name asks for that a bundle cannot be (zip, xz, bzip2, 7z, zstd,
 * rar), or null. A bundle is a tar or a gzipped tar; writing one under such a name would
 * leave a file that every tool but modelctl misreads.
 */
export function otherArchiveFormat(file: string): string | null {
  const m = /\.(zip|xz|txz|bz2|tbz2?|7z|zst|tzst|rar|lz4|lzma)$/i.exec(file);
  return m === null ? null : m[1]!.toLowerCase();
}

/** One entry to write: its name, size and bytes (a buffer, or a file read as it streams). */
export interface BundleWriteEntry {
  name: string;
  size: number;
  body: Buffer | { file: string; onChunk?: (chunk: Buffer) => void; onEnd?: () => void };
}

/**
 * Writes a tar (gzip when `gzip`) of `entries` to `output` atomically: a registered temp file
 * in the same folder, fsynced and renamed, so an interrupted or failed export leaves no partial
 * bundle. Entries are regular files, mode 0644, owner 0, mtime `mtime`: the same version and
 * events give the same bytes. A file entry whose size changes while read fails the export.
 */
export async function writeBundle(output: string, entries: readonly BundleWriteEntry[], opts: { gzip: boolean; mtime: Date }): Promise<void> {
  const { Header } = await import('tar');
  const dir = dirname(output);
  let tmp: { path: string; fd: number };
  try {
    tmp = createTempFile(dir, '.bundle.tmp');
  } catch (err) {
    throw fsError(err, dir);
  }
  async function* tarBytes(): AsyncGenerator<Buffer> {
    for (const e of entries) {
      const header = new Header({ path: e.name, mode: 0o644, uid: 0, gid: 0, size: e.size, mtime: opts.mtime, type: 'File', uname: '', gname: '' });
      const block = Buffer.alloc(512);
      header.encode(block, 0);
      yield block;
      let written = 0;
      if (Buffer.isBuffer(e.body)) {
        yield e.body;
        written = e.body.length;
      } else {
        const source = e.body;
        for await (const chunk of createReadStream(source.file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
          written += chunk.length;
          if (written > e.size) break;
          source.onChunk?.(chunk);
          yield chunk;
        }
        if (written === e.size) source.onEnd?.();
      }
      if (written !== e.size) {
        throw new IntegrityError('OBJECT_SIZE_CHANGED', `${e.name}: expected ${e.size} bytes, read ${written}`, {
          hint: 'the store changed or is damaged; run `modelctl verify`',
        });
      }
      const pad = (512 - (e.size % 512)) % 512;
      if (pad) yield Buffer.alloc(pad);
    }
    yield Buffer.alloc(1024); // end-of-archive: two zero blocks
  }
  try {
    const sink = createWriteStream('', { fd: tmp.fd, autoClose: false });
    const source = Readable.from(tarBytes());
    if (opts.gzip) await pipeline(source, (await import('node:zlib')).createGzip(), sink);
    else await pipeline(source, sink);
    fsyncSync(tmp.fd);
    closeSync(tmp.fd);
    tmp.fd = -1;
    chmodSync(tmp.path, 0o644); // temp files are private (0600); the bundle is an ordinary file
    renameSync(tmp.path, output);
    releaseTempFile(tmp.path);
    fsyncDir(dir);
  } catch (err) {
    discardTempFile(tmp.path, tmp.fd === -1 ? undefined : tmp.fd);
    throw err instanceof ModelctlError ? err : fsError(err, output);
  }
}

/** An entry the reader hands on: a regular file with a format name, its bytes to follow. */
export interface BundleReadEntry {
  name: string;
  size: number;
  what: BundleEntryKind;
}

/** What the importer does with each entry: `accept` decides before any byte is read. */
export interface BundleEntryHandler {
  /** Throw to refuse the entry (the whole bundle then fails). */
  accept(entry: BundleReadEntry): void;
  /** Bytes of the accepted entry, in order (the buffer is only valid during the call). */
  data(entry: BundleReadEntry, chunk: Buffer): void;
  /** The accepted entry is complete. */
  end(entry: BundleReadEntry): void;
}

/**
 * Streams the bundle `file` through tar's parser (strict: any malformed header, bad checksum,
 * truncation or decompression error fails) and hands each entry to `handler`. Refused, before
 * a byte of them is used: entries that are not regular files (symlinks, hard links, devices,
 * folders, FIFOs), absolute or escaping names (`/…`, `..`), names the format does not have,
 * and a name seen twice. Nothing is extracted to disk by tar. Failures before `markerSeen()`
 * is true mean "not a bundle" (UsageError NOT_A_BUNDLE, exit 2); after it, the bundle is
 * damaged or hostile (IntegrityError, exit 6).
 */
export async function readBundle(file: string, handler: BundleEntryHandler, markerSeen: () => boolean): Promise<void> {
  const { Parser } = await import('tar');
  let failure: unknown = null;
  const seen = new Set<string>();
  const fail = (err: unknown) => {
    if (failure === null) failure = err;
  };
  const hostile = (name: string, why: string) =>
    markerSeen()
      ? new IntegrityError('UNSAFE_BUNDLE_ENTRY', `bundle entry '${printable(name)}' refused: ${why}`, { hint: 'the bundle was crafted or damaged; nothing was imported' })
      : notABundle(file, `entry '${printable(name)}' ${why}`);

  const parser = new Parser({
    strict: true,
    maxMetaEntrySize: 64 * 1024,
    // Sizes are checked against the marker entry by entry, so tar's ratio guard (1000:1,
    // which zero-filled weights exceed) is not what bounds the work.
    maxDecompressionRatio: Number.MAX_SAFE_INTEGER,
    filter: (path, entry) => {
      if (failure !== null) return false;
      const e = entry as { type?: string; size?: number };
      try {
        const raw = path;
        if (e.type !== 'File' && e.type !== 'OldFile' && e.type !== 'ContiguousFile') throw hostile(raw, `is a ${e.type ?? 'special entry'}, not a regular file`);
        const unsafe = unsafePathReason(raw);
        if (unsafe) throw hostile(raw, `has an unsafe name (${unsafe})`);
        const what = classifyBundleEntry(raw);
        if (!what) throw hostile(raw, 'is not part of the bundle format');
        if (seen.has(raw)) throw hostile(raw, 'appears twice');
        seen.add(raw);
        handler.accept({ name: raw, size: e.size ?? 0, what });
        return true;
      } catch (err) {
        fail(err);
        return false;
      }
    },
    onReadEntry: (entry) => {
      if (failure !== null) {
        entry.resume();
        return;
      }
      const what = classifyBundleEntry(entry.path);
      if (!what) {
        entry.resume();
        return;
      }
      const info: BundleReadEntry = { name: entry.path, size: entry.size, what };
      entry.on('data', (chunk: Buffer) => {
        if (failure !== null) return;
        try {
          handler.data(info, chunk);
        } catch (err) {
          fail(err);
        }
      });
      entry.on('end', () => {
        if (failure !== null) return;
        try {
          handler.end(info);
        } catch (err) {
          fail(err);
        }
      });
    },
  });
  parser.on('error', (err: unknown) => fail(markerSeen() ? damaged(file, err) : notABundle(file, err instanceof Error ? err.message : String(err))));
  // tar skips entries of unknown types without asking the filter: refuse those too.
  parser.on('ignoredEntry', (entry: { path: string; type?: string }) => {
    if (failure === null) fail(hostile(entry.path, `is a ${entry.type ?? 'special entry'}, not a regular file`));
  });
  const finished = new Promise<void>((resolve) => {
    parser.on('end', () => resolve());
    parser.on('error', () => resolve());
    parser.on('abort', () => resolve());
  });

  let fd: number;
  try {
    // Non-blocking, regular files only: a FIFO given as the bundle must not hang import.
    fd = openRegularSync(file);
  } catch (err) {
    throw fsError(err, file);
  }
  try {
    // Synchronous reads feed a synchronous parser: each entry's bytes reach the handler (and
    // the store's temp files) before the next read. Reads are small because gzip inflates a
    // read at once: 64 KiB of compressed zeros is at most ~66 MiB in memory.
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      parser.write(Buffer.from(buf.subarray(0, n)));
      if (failure !== null) break;
    }
    if (failure === null) {
      parser.end();
      // Entries end as the parser drains; wait for it so every `end` handler has run.
      await finished;
    }
  } catch (err) {
    fail(markerSeen() ? damaged(file, err) : err instanceof ModelctlError ? err : fsError(err, file));
  } finally {
    closeSync(fd);
  }
  if (failure !== null) throw failure;
}

function notABundle(file: string, why: string): UsageError {
  return new UsageError('NOT_A_BUNDLE', `${printable(file)} is not a modelctl bundle: ${why}`, {
    hint: 'bundles are made by `modelctl export <ref> -o file.tar.gz`',
  });
}

function damaged(file: string, err: unknown): IntegrityError {
  if (err instanceof IntegrityError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new IntegrityError('BUNDLE_DAMAGED', `${printable(file)} is damaged: ${msg}`, { hint: 'export it again from the source repository; nothing was imported' });
}

/** The error for a bundle whose marker is missing or not a marker this build reads. */
export function bundleNotRecognised(file: string, why: string): UsageError {
  return notABundle(file, why);
}
