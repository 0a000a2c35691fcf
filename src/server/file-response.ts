import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExitCode } from '../errors.js';
import type { ManifestFile } from '../core/manifest.js';
import type { PieceSink, ServedBytes } from '../api/served-bytes.js';
import { COMMON_HEADERS, HttpError } from './http-response.js';

/**
 * One version file over HTTP (docs/design.md §12): `ETag` is the file digest, so a client
 * that has the bytes revalidates for free and a stage that moved to other bytes changes the
 * tag; `Range` (one range) and `If-Range` for resumable downloads; the digest in
 * `X-Modelctl-Digest`, and the plain sha256 in `Repr-Digest` where it is known without
 * reading the file (a file of one chunk, whose chunk digest is the sha256 of all its bytes).
 */

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The range a `Range` header asks for within `size` bytes: null when the whole file should
 * be sent (no header, a multi-range or a unit other than bytes: RFC 9110 lets a server
 * ignore those), or 'unsatisfiable'.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return null; // syntactically invalid: ignore the header
  return { start, end };
}

/** The ETag of a file: its digest, quoted (strong: equal tags mean equal bytes). */
export function fileEtag(digest: string): string {
  return `"${digest}"`;
}

/** True when an If-None-Match list names this ETag (or `*`). */
function matchesEtag(list: string | undefined, etag: string): boolean {
  if (!list) return false;
  return list.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag;
  });
}

/** The headers that describe a version file, whatever part of it is sent. */
export function fileHeaders(file: ManifestFile, versionId: string): Record<string, string> {
  const name = file.path.split('/').pop() ?? 'file';
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    ETag: fileEtag(file.digest),
    'X-Modelctl-Digest': file.digest,
    'X-Modelctl-Version': versionId,
    'Accept-Ranges': 'bytes',
    'Content-Type': 'application/octet-stream',
    // A reference such as @production moves: clients revalidate (cheap, by ETag) every time.
    'Cache-Control': 'no-cache',
    'Content-Disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
  };
  const plain = plainSha256(file);
  if (plain) headers['Repr-Digest'] = `sha-256=:${Buffer.from(plain, 'hex').toString('base64')}:`;
  return headers;
}

/** The sha256 of a file's bytes when the manifest alone tells it (empty or one chunk). */
function plainSha256(file: ManifestFile): string | null {
  if (file.size === 0) return createHash('sha256').digest('hex');
  return file.chunk ?? null;
}

/**
 * Answers GET/HEAD for one file whose object is at `objectPath`: 304 when If-None-Match
 * names its ETag, 206 for a satisfiable single Range (honouring If-Range), 416 for an
 * unsatisfiable one, else 200 with every byte. The body streams with backpressure, so memory
 * stays flat whatever the size and the number of clients; `bytes` reads (and checks) the
 * range asked for.
 */
export async function sendVersionFile(req: IncomingMessage, res: ServerResponse, file: ManifestFile, versionId: string, bytes: ServedBytes): Promise<void> {
  const headers = fileHeaders(file, versionId);
  const etag = headers.ETag;
  if (matchesEtag(req.headers['if-none-match'], etag)) {
    res.writeHead(304, { ETag: etag, 'Cache-Control': headers['Cache-Control'], 'X-Modelctl-Digest': file.digest });
    res.end();
    return;
  }
  const ifRange = req.headers['if-range'];
  let range = ifRange === undefined || ifRange === etag ? parseRange(req.headers.range, file.size) : null;
  if (range === 'unsatisfiable') {
    throw new HttpError(416, 'RANGE_NOT_SATISFIABLE', `the range ${req.headers.range} lies outside ${file.path} (${file.size} bytes)`, {
      exitCode: ExitCode.USAGE,
      headers: { 'Content-Range': `bytes */${file.size}` },
      hint: 'ask for bytes below the file size, or drop the Range header',
    });
  }
  let status = 200;
  if (range) {
    status = 206;
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${file.size}`;
  } else range = file.size > 0 ? { start: 0, end: file.size - 1 } : null;
  headers['Content-Length'] = String(range ? range.end - range.start + 1 : 0);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || !range) {
    res.end();
    return;
  }
  await bytes(range.start, range.end + 1, responseSink(res));
  res.end();
}

/**
 * The sink a response's body goes through: each piece is written to the socket, and its
 * promise resolves once the socket took it (the reader may then reuse its memory), or
 * rejects when the client went away. A write pending when the socket is destroyed may never
 * call its callback, so the response's 'close' rejects every write still waiting: otherwise
 * the reader would wait forever and its open file be closed only by the garbage collector.
 */
export function responseSink(res: ServerResponse): PieceSink {
  const waiting = new Set<(err: Error) => void>();
  res.once('close', () => {
    for (const reject of waiting) reject(new Error('client went away'));
    waiting.clear();
  });
  return (piece) =>
    new Promise<void>((resolve, reject) => {
      if (res.destroyed) {
        reject(new Error('client went away'));
        return;
      }
      waiting.add(reject);
      res.write(piece, (err) => {
        waiting.delete(reject);
        if (err) {
          // A write the kernel refused (ECONNRESET, EPIPE: the client reset the connection)
          // can report before the socket's own error marks the response destroyed; destroy it
          // now, so the request ends as a client that went away, not as a bug in the log.
          res.destroy();
          reject(err);
        } else resolve();
      });
    });
}
