/**
 * The S3 backend (AWS S3 and S3-compatible stores: Ceph RGW, MinIO, R2, s3rver …), on
 * @aws-sdk/client-s3, loaded lazily because importing it costs ~120 ms of start-up.
 * Whole-object PUT/GET only; bodies are Buffers, never streams, and checksums are only
 * computed when asked for (docs/design.md §7, "Plain bodies"). Object GETs go lean, past the
 * SDK's middleware, and so do chunk PUTs (s3-lean-requests.ts, docs/design.md §7 "The lean GET",
 * "The lean PUT").
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import type { GetObjectCommandOutput as GetObjectOutput, PutObjectCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { IntegrityError, ModelctlError, NotFoundError, RemoteError, UsageError, codeOf } from '../errors.js';
import { probeConditionalWrites } from './probe.js';
import {
  assertValidCondition,
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  preconditionFailed,
  rangeNotSatisfiable,
  unquoteEtag,
  type ByteRange,
  type ObjectInfo,
  type PutCondition,
  type Remote,
  parseContentRange,
  type RemoteCapabilities,
} from './remote.js';
import { withRetry } from './retry.js';
import { BodyReadError, S3LeanRequests, type GetAnswer } from './s3-lean-requests.js';
import { perRequestRetryStrategy } from './s3-retry.js';
import { redactUrlsInText } from '../core/redact.js';
import { formatRemoteUrl, type S3UrlSpec } from './url.js';

/** Options of an S3 remote; everything but the bucket has a sensible default. */
export interface S3RemoteOptions {
  bucket: string;
  /** '' or a `/`-terminated key prefix. */
  prefix?: string;
  /** A custom endpoint (S3-compatible server); default `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, else AWS. */
  endpoint?: string;
  /** Default `AWS_REGION`, then `AWS_DEFAULT_REGION`, else `us-east-1`. */
  region?: string;
  /** Explicit credentials (tests, embedding); default: the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Keys per ListObjectsV2 page (default 1000, the S3 maximum). */
  pageSize?: number;
  /**
   * Attempts per request, including the first, for throttling, 5xx, dropped connections,
   * timeouts and cut-short bodies (default `MODELCTL_S3_MAX_ATTEMPTS`, else 5).
   */
  maxAttempts?: number;
  /** Give up connecting after this many ms (default `MODELCTL_S3_CONNECT_TIMEOUT_MS`, else 10 s). */
  connectionTimeoutMs?: number;
  /**
   * Fail a request whose socket stays silent this long (waiting for an answer, or in the
   * middle of a body), so it is retried instead of hanging (default
   * `MODELCTL_S3_SOCKET_TIMEOUT_MS`, else 60 s).
   */
  socketTimeoutMs?: number;
  /** Concurrent sockets per client (default 64). */
  maxSockets?: number;
}

type S3Module = typeof import('@aws-sdk/client-s3');

/** Builds the backend for an `s3://` URL spec plus the user's endpoint/region overrides. */
export async function openS3Remote(spec: S3UrlSpec, opts: Omit<S3RemoteOptions, 'bucket' | 'prefix'> = {}): Promise<Remote> {
  return createS3Remote({ ...opts, bucket: spec.bucket, prefix: spec.prefix });
}

/** Creates an S3 remote; no request is made until the first call. */
export async function createS3Remote(opts: S3RemoteOptions): Promise<Remote> {
  // The SDK warns on Node < 22 that *future* SDK releases will need Node 22: nothing a
  // modelctl user (engines: node >= 20) can act on, and noise on every command's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  return new S3Remote(sdk, opts);
}

// Codes that mean "these credentials are not accepted", as opposed to "not allowed".
const BAD_CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'AuthorizationHeaderMalformed',
]);

class S3Remote implements Remote {
  readonly displayUrl: string;
  private readonly sdk: S3Module;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly pageSize: number;
  private readonly maxAttempts: number;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  /** GETs and chunk PUTs without the SDK's middleware (s3-lean-requests.ts); the SDK takes over on anything unusual. */
  private readonly direct: S3LeanRequests;
  private capabilities: Promise<RemoteCapabilities> | undefined;
  readonly objectLock = {
    retention: async (key: string): Promise<{ mode: string; retainUntil: Date } | null> => {
      assertValidKey(key);
      try {
        const out = await this.client.send(new this.sdk.GetObjectRetentionCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        const r = out.Retention;
        return r?.Mode && r.RetainUntilDate ? { mode: r.Mode, retainUntil: new Date(r.RetainUntilDate) } : null;
      } catch (err) {
        // No lock on the object (or none configured on the bucket): not under retention.
        const code = errorCode(err);
        if (code === 'NoSuchObjectLockConfiguration' || code === 'ObjectLockConfigurationNotFoundError' || code === 'InvalidRequest' || statusOf(err) === 404 || statusOf(err) === 400) return null;
        throw await this.mapError('GET-RETENTION', key, err);
      }
    },
  };

  constructor(sdk: S3Module, opts: S3RemoteOptions) {
    this.sdk = sdk;
    this.bucket = opts.bucket;
    this.prefix = normalisePrefix(opts.prefix ?? '');
    this.pageSize = Math.max(1, Math.min(1000, opts.pageSize ?? 1000));
    this.displayUrl = formatRemoteUrl({ kind: 's3', bucket: this.bucket, prefix: this.prefix });
    const endpoint = opts.endpoint ?? envValue('AWS_ENDPOINT_URL_S3') ?? envValue('AWS_ENDPOINT_URL');
    const maxSockets = opts.maxSockets ?? 64;
    // Read (and validated) before anything is allocated: a bad value is a usage error.
    this.maxAttempts = opts.maxAttempts ?? envInt('MODELCTL_S3_MAX_ATTEMPTS') ?? 5;
    const connectionTimeout = opts.connectionTimeoutMs ?? envInt('MODELCTL_S3_CONNECT_TIMEOUT_MS') ?? 10_000;
    const socketTimeout = opts.socketTimeoutMs ?? envInt('MODELCTL_S3_SOCKET_TIMEOUT_MS') ?? 60_000;
    // Keep-alive: thousands of small chunk requests must not each pay a TCP (and TLS) handshake.
    this.agents = {
      http: new HttpAgent({ keepAlive: true, maxSockets }),
      https: new HttpsAgent({ keepAlive: true, maxSockets }),
    };
    const config: S3ClientConfig = {
      region: opts.region ?? envValue('AWS_REGION') ?? envValue('AWS_DEFAULT_REGION') ?? 'us-east-1',
      // S3-compatible servers rarely have wildcard DNS for virtual-hosted buckets.
      forcePathStyle: endpoint !== undefined,
      // Only AWS itself redirects to a bucket's real region; follow it when we guessed wrong.
      followRegionRedirects: endpoint === undefined,
      // The setting that matters (docs/design.md §7, "Plain bodies"): no aws-chunked bodies with trailing checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: this.maxAttempts,
      // Per-request attempts, no client-wide retry quota: see s3-retry.ts.
      retryStrategy: perRequestRetryStrategy(this.maxAttempts),
      requestHandler: {
        httpAgent: this.agents.http,
        httpsAgent: this.agents.https,
        connectionTimeout,
        socketTimeout,
      },
    };
    if (endpoint !== undefined) config.endpoint = endpoint;
    if (opts.credentials !== undefined) config.credentials = opts.credentials;
    this.client = new sdk.S3Client(config);
    this.direct = new S3LeanRequests(this.client, sdk.GetObjectCommand, this.bucket, this.agents, { connectionMs: connectionTimeout, socketMs: socketTimeout });
  }

  async put(
    key: string,
    body: Buffer,
    opts: { condition?: PutCondition; sha256?: Buffer; retainUntil?: Date } = {},
  ): Promise<{ etag: string }> {
    assertValidKey(key);
    const condition = opts.condition ?? {};
    assertValidCondition(condition);
    const conditional = condition.ifAbsent === true || condition.ifMatch !== undefined;
    // Object Lock puts must carry an integrity header (S3 and RGW refuse them without one).
    const lock = opts.retainUntil === undefined ? {} : { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: opts.retainUntil, ContentMD5: createHash('md5').update(body).digest('base64') };
    const input = {
      ...lock,
      Bucket: this.bucket,
      Key: this.prefix + key,
      Body: body,
      ContentLength: body.length,
      ...(opts.sha256 === undefined ? {} : { ChecksumSHA256: opts.sha256.toString('base64') }),
      ...(condition.ifAbsent === true ? { IfNoneMatch: '*' } : {}),
      // RGW refuses a quoted ETag in If-Match (412 even when it matches); AWS accepts both.
      ...(condition.ifMatch === undefined ? {} : { IfMatch: unquoteEtag(condition.ifMatch) }),
    };
    // A chunk (content-addressed, its sha256 known, no condition): the lean PUT, which
    // signs the payload with that hash instead of hashing the body again.
    if (opts.sha256 !== undefined && !conditional && opts.retainUntil === undefined && this.direct.putsEnabled) {
      const lean = await this.direct.put(input.Key, body, opts.sha256);
      if (lean.kind === 'stored') return { etag: await this.etagOfPut(key, lean.etag) };
      // The SDK redoes this PUT (with its retries and error mapping), and all later ones.
      this.direct.disablePuts();
    }
    let retriedAmbiguously = false;
    try {
      const out = await withRetry(
        async () => {
          try {
            return await this.client.send(withPayloadHash(new this.sdk.PutObjectCommand(input), opts.sha256));
          } catch (err) {
            if (attemptsOf(err) > 1) retriedAmbiguously = true;
            throw err;
          }
        },
        {
          attempts: 4,
          baseDelayMs: 100,
          // Two conditional writes racing on one key: S3 may answer 409 to either; it decided nothing.
          retryable: (err) => conditional && isConditionalConflict(err),
        },
      );
      return { etag: await this.etagOfPut(key, out.ETag) };
    } catch (err) {
      // AWS answers If-Match on a missing key with 404 NoSuchKey, RGW with 412: both mean "not the version you read".
      const ifMatchOnMissing = condition.ifMatch !== undefined && isNoSuchKey(err);
      if (opts.retainUntil !== undefined && (errorCode(err) === 'InvalidRequest' || errorCode(err) === 'InvalidBucketState') && statusOf(err) === 400) {
        throw new UsageError('OBJECT_LOCK_UNAVAILABLE', `PUT ${key}: ${this.displayUrl} refused a write under Object Lock (the bucket was not created with Object Lock enabled)`, {
          cause: err,
          hint: 'create the bucket with Object Lock enabled (it cannot be turned on later on most stores), or remove events_retention from the remote\'s settings',
        });
      }
      if (conditional && (statusOf(err) === 412 || isConditionalConflict(err) || ifMatchOnMissing)) {
        // A retried conditional PUT whose first attempt landed (but whose answer was lost)
        // fails its own condition on the retry: if the object holds exactly our bytes, we won.
        if (retriedAmbiguously) {
          const current = await this.get(key).catch(() => null);
          if (current !== null && current.body.equals(body)) return { etag: current.etag };
        }
        throw preconditionFailed(key, condition, err);
      }
      throw await this.mapError('PUT', key, err);
    }
  }

  async get(key: string, opts: { range?: ByteRange } = {}): Promise<{ body: Buffer; etag: string } | null> {
    assertValidKey(key);
    const range = opts.range;
    if (range !== undefined) assertValidRange(range);
    try {
      return await this.receive(key, range, async (out) => {
        let body = await receiveAll(out);
        if (range !== undefined) body = trimToRange(key, body, range, out.contentRange);
        return { body, etag: unquoteEtag(out.etag ?? '') };
      });
    } catch (err) {
      if (range !== undefined && (statusOf(err) === 416 || errorCode(err) === 'InvalidRange')) {
        throw rangeNotSatisfiable(key, range);
      }
      throw err;
    }
  }

  async getInto(key: string, into: Uint8Array): Promise<number | null> {
    assertValidKey(key);
    return this.receive(key, undefined, (out) => receiveInto(out, into), { into, done: (bytes) => bytes });
  }

  /**
   * One GET, its body consumed by `consume`; null when the key is absent. The SDK retries a
   * request until its headers arrive; the body is streamed to us afterwards, outside its
   * retry loop. A connection reset, a stall (socket timeout) or a clean close before
   * Content-Length bytes arrived (BodyCutShort from `consume`) are retried here, as a new GET.
   */
  private async receive<T>(key: string, range: ByteRange | undefined, consume: (out: GetAnswer) => Promise<T>, readInto?: { into: Uint8Array; done: (bytes: number) => T }): Promise<T | null> {
    const input = {
      Bucket: this.bucket,
      Key: this.prefix + key,
      // Never a suffix range ("bytes=-N"): s3rver returns the wrong bytes for those.
      ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
    };
    let bodyAttempts = 0;
    try {
      return await withRetry(
        async () => {
          bodyAttempts++;
          if (this.direct.enabled && readInto !== undefined) {
            // The body read into place (plain-http-get.ts); over https, streamed and copied.
            const lean = await this.direct.getInto(input.Key, readInto.into).catch((err: unknown) => {
              throw err instanceof BodyReadError ? new BodyCutShort(err.message, err) : err;
            });
            if (lean.kind === 'received') return readInto.done(lean.bytes);
            if (lean.kind === 'answer') return consume(lean.answer);
            if (lean.kind === 'missing') return null;
            this.direct.disable();
          } else if (this.direct.enabled) {
            const lean = await this.direct.get(input.Key, range);
            if (lean.kind === 'answer') return consume(lean.answer);
            if (lean.kind === 'missing') return null;
            // The SDK redoes this GET (with its retries and error mapping), and all later ones.
            this.direct.disable();
          }
          return consume(fromSdk(await this.client.send(new this.sdk.GetObjectCommand(input))));
        },
        { attempts: this.maxAttempts, baseDelayMs: 100, maxDelayMs: 5_000, retryable: (err) => err instanceof BodyCutShort },
      );
    } catch (err) {
      if (isNoSuchKey(err)) return null;
      if (range !== undefined && (statusOf(err) === 416 || errorCode(err) === 'InvalidRange')) throw err;
      throw await this.mapError('GET', key, err, err instanceof BodyCutShort ? bodyAttempts : undefined);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const out = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return { key, size: out.ContentLength ?? 0, etag: unquoteEtag(out.ETag ?? ''), ...(out.LastModified ? { lastModified: out.LastModified } : {}) };
    } catch (err) {
      // HEAD answers carry no error body: a missing bucket is also a bare 404 here.
      if (statusOf(err) === 404 || isNoSuchKey(err)) return null;
      throw await this.mapError('HEAD', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new this.sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxKeys: this.pageSize,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (err) {
        throw await this.mapError('LIST', prefix === '' ? '(root)' : prefix, err);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue;
        yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0, etag: unquoteEtag(object.ETag ?? ''), ...(object.LastModified ? { lastModified: object.LastModified } : {}) };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (err) {
      if (isNoSuchKey(err)) return;
      throw await this.mapError('DELETE', key, err);
    }
  }

  probeCapabilities(): Promise<RemoteCapabilities> {
    this.capabilities ??= probeConditionalWrites(this).then(
      (conditionalWrites) => ({ conditionalWrites }),
      (err: unknown) => {
        this.capabilities = undefined;
        throw err;
      },
    );
    return this.capabilities;
  }

  async close(): Promise<void> {
    this.direct.close();
    this.client.destroy();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** The ETag a PUT answered with; some servers (RGW after multipart, proxies) give none: then asked for. */
  private async etagOfPut(key: string, answered: string | undefined): Promise<string> {
    if (answered !== undefined && answered !== '') return unquoteEtag(answered);
    const info = await this.head(key);
    return info?.etag ?? '';
  }

  /** Turns an SDK failure into a typed error naming the operation and key, with any secret scrubbed. */
  private async mapError(op: string, key: string, err: unknown, attemptsMade?: number): Promise<ModelctlError> {
    if (err instanceof ModelctlError) return err;
    const status = statusOf(err);
    const code = errorCode(err);
    const where = `${op} ${key}`;
    const credentialsMissing = err instanceof Error && err.name === 'CredentialsProviderError';
    // With no credentials loaded there is nothing to scrub, and asking the provider chain again could be slow.
    const detail = credentialsMissing ? describe(err, status, code) : await this.scrub(describe(err, status, code));
    const data = { operation: op, key, bucket: this.bucket, ...(status === undefined ? {} : { status }), ...(code === undefined ? {} : { s3Code: code }) };
    if (code === 'NoSuchBucket') {
      return new NotFoundError('REMOTE_BUCKET_NOT_FOUND', `${where}: bucket "${this.bucket}" does not exist`, {
        cause: err,
        data,
        hint: 'check the remote URL (`modelctl remote ls`) and the endpoint/region; create the bucket first',
      });
    }
    if (code === 'BadDigest' || code === 'XAmzContentChecksumMismatch' || code === 'InvalidDigest') {
      return new IntegrityError('CHECKSUM_MISMATCH', `${where}: the server's checksum of the bytes differs from the one sent (${detail})`, { cause: err, data });
    }
    if (credentialsMissing) {
      return new RemoteError('REMOTE_NO_CREDENTIALS', `${where}: no AWS credentials found (${detail})`, {
        cause: err,
        data,
        hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (see `aws configure`)',
      });
    }
    if (code !== undefined && BAD_CREDENTIAL_CODES.has(code)) {
      return new RemoteError('REMOTE_BAD_CREDENTIALS', `${where}: credentials rejected by ${this.displayUrl} (${detail})`, {
        cause: err,
        data,
        hint: 'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), the region, and the machine clock',
      });
    }
    if (status === 403 || code === 'AccessDenied' || code === 'AllAccessDisabled') {
      // HEAD answers have no body, so a 403 there cannot say whether the key or the permission is wrong.
      const permissions = 'modelctl needs s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on the bucket';
      return new RemoteError('REMOTE_ACCESS_DENIED', `${where}: access denied on ${this.displayUrl} (${detail})`, {
        cause: err,
        data,
        hint: code === undefined
          ? `check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and their permissions: ${permissions}`
          : `these credentials lack permission: ${permissions}`,
      });
    }
    const throttled = code === 'SlowDown' || code === 'Throttling' || code === 'ThrottlingException' || status === 429 || status === 503;
    const attempts = attemptsMade ?? attemptsOf(err);
    const after = attempts > 1 ? ` after ${attempts} attempts` : '';
    return new RemoteError(throttled ? 'REMOTE_THROTTLED' : 'REMOTE_UNAVAILABLE', `${where}: ${detail}${after}`, {
      cause: err,
      data,
      hint: throttled
        ? 'the store is throttling requests: wait a little and run the command again'
        : `check the network and the endpoint of ${this.displayUrl}, then run the command again`,
    });
  }

  /**
   * Removes the credentials from a message, should a server or proxy echo what it was sent:
   * the access key id, secret key and session token in any form, URLs' userinfo and signed
   * query parameters, and SigV4 `Credential=` / `Signature=` fragments.
   */
  private async scrub(text: string): Promise<string> {
    let creds: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string } | undefined;
    try {
      creds = await this.client.config.credentials();
    } catch {
      creds = undefined;
    }
    let out = redactUrlsInText(text)
      .replace(/\b(Credential=)[^\s,;&"'<]+/gi, '$1<redacted>')
      .replace(/\b(Signature=)[0-9a-f]{16,}/gi, '$1<redacted>');
    for (const secret of [creds?.accessKeyId, creds?.secretAccessKey, creds?.sessionToken]) {
      if (secret === undefined || secret.length < 8) continue;
      for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('<redacted>');
    }
    return out;
  }
}

/**
 * A PUT whose body's sha256 is known carries it as the signed payload hash: the signer takes
 * `x-amz-content-sha256` as given instead of hashing the body (on plain http it hashes every
 * byte otherwise, ~0.1 s per 128 MiB on this thread).
 */
function withPayloadHash(command: PutObjectCommand, sha256: Buffer | undefined): PutObjectCommand {
  if (sha256 === undefined) return command;
  const hex = sha256.toString('hex');
  command.middlewareStack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = hex;
      return next(args);
    },
    { step: 'build', name: 'modelctlKnownPayloadHash' },
  );
  return command;
}

/** A GET whose headers arrived but whose body did not, completely: worth another GET. */
class BodyCutShort extends Error {
  constructor(message: string, cause?: unknown) {
    // Named plain "Error" on purpose: errorCode() must not take the class name for an S3 code.
    super(message, cause === undefined ? undefined : { cause });
    const netCode = codeOf(cause);
    if (netCode !== undefined) Object.defineProperty(this, 'code', { value: netCode, enumerable: true });
  }
}

/** The SDK's GetObject output as a GetAnswer; in Node its Body is the response stream. */
function fromSdk(out: GetObjectOutput): GetAnswer {
  return {
    body: (out.Body as unknown as Readable | undefined) ?? Readable.from([]),
    contentLength: out.ContentLength,
    contentRange: out.ContentRange,
    etag: out.ETag,
  };
}

/** A whole body as one Buffer; a short or broken body is BodyCutShort. */
async function receiveAll(out: GetAnswer): Promise<Buffer> {
  const pieces: Buffer[] = [];
  const n = await consumeBody(out, (piece) => {
    pieces.push(piece);
    return true;
  });
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, n);
}

/**
 * A body written straight into `into`, no concatenated copy. Returns the byte count, or a
 * count larger than `into` (the body destroyed) when it does not fit.
 */
async function receiveInto(out: GetAnswer, into: Uint8Array): Promise<number> {
  if (out.contentLength !== undefined && out.contentLength > into.length) {
    out.body.destroy();
    return out.contentLength;
  }
  return consumeBody(out, (piece, at) => {
    if (at + piece.length > into.length) return false;
    into.set(piece, at);
    return true;
  });
}

/**
 * Feeds a body's pieces, with the offset each starts at, to `take` ('data' events: cheaper
 * per piece than async iteration, which showed up in a pull's profile). Resolves with the
 * byte count. `take` returning false stops and destroys the body, and the count then
 * includes the refused piece. A reset, a stall, or an end short of the declared
 * Content-Length rejects with BodyCutShort.
 */
function consumeBody(out: GetAnswer, take: (piece: Buffer, at: number) => boolean): Promise<number> {
  const { body, contentLength } = out;
  return new Promise<number>((resolve, reject) => {
    let n = 0;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      body.off('data', onData);
      if (err !== undefined) reject(new BodyCutShort(err instanceof Error ? err.message : String(err), err));
      else if (contentLength !== undefined && n !== contentLength) reject(new BodyCutShort(`the answer ended after ${n} of ${contentLength} bytes`));
      else resolve(n);
    };
    // Response streams emit Buffers (no encoding is ever set on them).
    const onData = (piece: Buffer) => {
      if (!take(piece, n)) {
        done = true;
        body.off('data', onData);
        body.destroy();
        resolve(n + piece.length);
        return;
      }
      n += piece.length;
    };
    body.on('data', onData);
    body.once('end', () => finish());
    body.once('error', (err) => finish(err));
    // A response destroyed (socket reset) without 'end' closes without an error on some Node versions.
    body.once('close', () => finish(body.readableEnded ? undefined : new Error('the connection closed before the body ended')));
  });
}

/**
 * Cuts a ranged GET's answer down to the bytes asked for. Some servers answer with more:
 * s3rver reads "bytes=0-0" as "bytes=0-" (its `end || Infinity`), and a server or proxy
 * that ignores Range sends the whole object with 200 and no Content-Range.
 */
function trimToRange(key: string, body: Buffer, range: ByteRange, contentRange: string | undefined): Buffer {
  const served = parseContentRange(contentRange);
  const servedStart = served === null ? 0 : served.start;
  const total = served === null ? body.length : (served.total ?? Infinity);
  if (range.start >= total) throw rangeNotSatisfiable(key, range, Number.isFinite(total) ? total : undefined);
  const from = range.start - servedStart;
  const wanted = Math.min(range.end, total - 1) - range.start + 1;
  if (from === 0 && body.length === wanted) return body;
  if (from < 0 || from + wanted > body.length) {
    throw new IntegrityError('BAD_RANGE_RESPONSE', `GET ${key}: asked for bytes ${range.start}-${range.end}, the server sent ${contentRange ?? `${body.length} bytes without Content-Range`}`);
  }
  return body.subarray(from, from + wanted);
}

function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  assertValidKey(trimmed);
  return trimmed + '/';
}

/** A positive whole number from the environment, or undefined when unset; anything else is a usage error naming the variable. */
function envInt(name: string): number | undefined {
  const value = envValue(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError('INVALID_SETTING', `${name}=${JSON.stringify(value)} is not a positive whole number`, {
      hint: `unset ${name}, or set it to a number such as ${name.endsWith('_MS') ? '30000 (milliseconds)' : '5'}`,
    });
  }
  return n;
}

function envValue(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function statusOf(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

function attemptsOf(err: unknown): number {
  const meta = (err as { $metadata?: { attempts?: number } } | null)?.$metadata;
  return typeof meta?.attempts === 'number' ? meta.attempts : 1;
}

function errorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  // The SDK puts the S3 error code in `Code` (XML responses) on its service exceptions.
  if ('Code' in err && typeof err.Code === 'string') return err.Code;
  // Service exceptions are named after their S3 error code; plain Errors are just "Error".
  return ['Error', 'TypeError', 'Unknown', 'UnknownError'].includes(err.name) ? undefined : err.name;
}

function isNoSuchKey(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'NoSuchKey' || code === 'NotFound' || (statusOf(err) === 404 && code !== 'NoSuchBucket');
}

function isConditionalConflict(err: unknown): boolean {
  return statusOf(err) === 409 && (errorCode(err) === 'ConditionalRequestConflict' || errorCode(err) === 'OperationAborted');
}

function describe(err: unknown, status: number | undefined, code: string | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  const netCode = codeOf(err);
  const parts: string[] = [];
  // The SDK says "UnknownError" for error answers without a body (HEAD, some 5xx).
  if (message !== '' && message !== 'UnknownError' && message !== code) parts.push(message);
  if (code !== undefined) parts.push(code);
  if (typeof netCode === 'string' && !message.includes(netCode)) parts.push(netCode);
  if (status !== undefined) parts.push(`HTTP ${status}`);
  return parts.length === 0 ? 'unknown error' : parts.join(', ');
}

