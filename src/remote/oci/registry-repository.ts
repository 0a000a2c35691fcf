/**
 * The distribution-spec endpoints of one repository (docs/design.md §13 lists what
 * docker-registry 2.8 lacks): blobs (HEAD, GET with Range, cross-repository mount),
 * manifests (PUT byte-exact, GET checked against their digest), tags and the catalog.
 * Uploads are in blob-upload.ts, verified downloads in blob-download.ts.
 */
import { createHash } from 'node:crypto';
import { IntegrityError, RemoteError } from '../../errors.js';
import { OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from '../../core/modelpack.js';
import type { RegistryClient, RegistryResponse } from './registry-client.js';

/** Manifests modelctl reads; docker-registry 2.8 answers 404 for an OCI manifest unless Accept names its type. */
const MANIFEST_ACCEPT = [OCI_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

/** A manifest as the registry stored it. */
export interface StoredManifest {
  bytes: Buffer;
  /** `sha256:…` of `bytes` (checked against the registry's Docker-Content-Digest). */
  digest: string;
  mediaType: string;
}

/** One repository of a registry. */
export class RegistryRepository {
  constructor(
    readonly client: RegistryClient,
    readonly name: string,
  ) {}

  get pullScope(): string[] {
    return [`repository:${this.name}:pull`];
  }

  get pushScope(): string[] {
    return [`repository:${this.name}:pull,push`];
  }

  private path(rest: string): string {
    return `/v2/${this.name}/${rest}`;
  }

  /** The size of a blob the repository has, or null. */
  async headBlob(digest: string, push = false): Promise<number | null> {
    const res = await this.client.request({ method: 'HEAD', path: this.path(`blobs/${digest}`), scopes: push ? this.pushScope : this.pullScope, expect: [200, 404] });
    if (res.status === 404) return null;
    const n = Number(res.headers['content-length']);
    return Number.isSafeInteger(n) ? n : -1;
  }

  /**
   * A blob's bytes as a stream, from `offset` on (a Range request; the answer says whether
   * the registry honoured it: 206, or 200 from the start). Null when the blob is absent.
   */
  async getBlob(digest: string, offset = 0): Promise<{ res: RegistryResponse; from: number } | null> {
    const res = await this.client.request({
      method: 'GET',
      path: this.path(`blobs/${digest}`),
      scopes: this.pullScope,
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      expect: [200, 206, 404, 416],
      stream: true,
    });
    if (res.status === 404) return null;
    if (res.status === 416) return { res, from: -1 };
    return { res, from: res.status === 206 ? offset : 0 };
  }

  /** Bytes [start, start + into.length) of a blob read into `into`, or null (stream it instead): RegistryClient.getRangeInto. */
  getBlobRangeInto(digest: string, start: number, into: Uint8Array): Promise<number | null> {
    return this.client.getRangeInto(this.path(`blobs/${digest}`), this.pullScope, start, into);
  }

  /** Mounts a blob from another repository of the same registry; false when the registry started an upload instead. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    const res = await this.client.request({
      method: 'POST',
      path: this.path(`blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`),
      scopes: [...this.pushScope, `repository:${from}:pull`],
      headers: { 'content-length': '0' },
      expect: [201, 202],
    });
    if (res.status === 202 && res.headers.location) {
      // An upload session was opened instead; cancel it (2.8 has no DELETE: it expires).
      await this.client.request({ method: 'DELETE', path: String(res.headers.location), scopes: this.pushScope, expect: [204, 404, 405], retry: false }).catch(() => undefined);
    }
    return res.status === 201;
  }

  /** Stores a manifest under a tag or digest, byte-exact; returns its digest. */
  async putManifest(reference: string, bytes: Buffer, mediaType = OCI_MANIFEST_MEDIA_TYPE): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const res = await this.client.request({
      method: 'PUT',
      path: this.path(`manifests/${reference}`),
      scopes: this.pushScope,
      headers: { 'content-type': mediaType },
      body: bytes,
      expect: [201, 200],
    });
    const said = res.headers['docker-content-digest'];
    if (typeof said === 'string' && said !== digest) {
      throw new RemoteError('REGISTRY_DIGEST_MISMATCH', `${this.client.registry} stored the manifest of ${this.name}:${reference} as ${said}, not ${digest}`, {
        hint: 'the registry rewrites manifests; modelctl needs one that stores them byte-exact',
      });
    }
    return digest;
  }

  /** A manifest by tag or digest, or null when absent; its bytes are checked against the digest asked for or announced. */
  async getManifest(reference: string, push = false): Promise<StoredManifest | null> {
    const res = await this.client.request({
      method: 'GET',
      path: this.path(`manifests/${reference}`),
      scopes: push ? this.pushScope : this.pullScope,
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200, 404],
      maxBody: 5 * 1024 * 1024,
    });
    if (res.status === 404) return null;
    const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const said = res.headers['docker-content-digest'];
    if ((reference.startsWith('sha256:') && reference !== digest) || (typeof said === 'string' && said.startsWith('sha256:') && said !== digest)) {
      throw new IntegrityError('MANIFEST_DIGEST_MISMATCH', `the manifest ${this.name}:${reference} from ${this.client.registry} does not hash to its digest`, {
        hint: 'the registry or something between is altering content; nothing was stored',
      });
    }
    const type = String(res.headers['content-type'] ?? '').split(';')[0].trim();
    return { bytes: res.body, digest, mediaType: type };
  }

  /** The digest a tag points at, or null when it does not exist. */
  async headManifest(reference: string, push = false): Promise<string | null> {
    const res = await this.client.request({
      method: 'HEAD',
      path: this.path(`manifests/${reference}`),
      scopes: push ? this.pushScope : this.pullScope,
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200, 404],
    });
    if (res.status === 404) return null;
    const said = res.headers['docker-content-digest'];
    if (typeof said === 'string' && /^sha256:[0-9a-f]{64}$/.test(said)) return said;
    // A registry that sends no digest on HEAD: read the manifest.
    return (await this.getManifest(reference, push))?.digest ?? null;
  }

  /** Every tag of the repository (following `Link` pages); empty when the repository does not exist. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | null = this.path('tags/list?n=1000');
    for (let pages = 0; path && pages < 10_000; pages++) {
      const res: RegistryResponse = await this.client.request({ method: 'GET', path, scopes: this.pullScope, expect: [200, 404] });
      if (res.status === 404) return tags;
      const doc = parseJson(res.body) as { tags?: unknown } | null;
      if (doc && Array.isArray(doc.tags)) for (const t of doc.tags) if (typeof t === 'string') tags.push(t);
      path = nextLink(res);
    }
    return tags;
  }
}

/**
 * The repositories a registry lists (`GET /v2/_catalog`, paged), or null when it does not
 * offer a catalog to this client (many hosted registries refuse it).
 */
export async function listCatalog(client: RegistryClient): Promise<string[] | null> {
  const out: string[] = [];
  let path: string | null = '/v2/_catalog?n=1000';
  for (let pages = 0; path && pages < 10_000; pages++) {
    let res: RegistryResponse;
    try {
      res = await client.request({ method: 'GET', path, scopes: ['registry:catalog:*'], expect: [200, 401, 403, 404, 405] });
    } catch (err) {
      if (err instanceof RemoteError && /UNAUTHORIZED|DENIED|UNSUPPORTED/.test(err.code)) return null;
      throw err;
    }
    if (res.status !== 200) return null;
    const doc = parseJson(res.body) as { repositories?: unknown } | null;
    if (doc && Array.isArray(doc.repositories)) for (const r of doc.repositories) if (typeof r === 'string') out.push(r);
    path = nextLink(res);
  }
  return out;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

/** The next page of a `Link: </v2/…>; rel="next"` header, as a path on the same registry. */
function nextLink(res: RegistryResponse): string | null {
  const link = res.headers.link;
  const m = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!m) return null;
  const next = new URL(m[1], res.url);
  if (next.host !== res.url.host) return null;
  return `${next.pathname}${next.search}`;
}
