/**
 * The OCI registry client against Debian's docker-registry (distribution 2.8): uploads
 * (monolithic, chunked, resumed), verified and resumed downloads, manifests with an
 * artifactType stored byte-exact, tags, catalog, and the three ways of authenticating.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelctlError } from '../../src/errors.js';
import { uploadFileBlob, type UploadState } from '../../src/remote/oci/blob-upload.js';
import { downloadBlob } from '../../src/remote/oci/blob-download.js';
import { RegistryClient } from '../../src/remote/oci/registry-client.js';
import { RegistryRepository, listCatalog } from '../../src/remote/oci/registry-repository.js';
import { FollowHasher } from '../../src/store/follow-hash.js';
import { hashFileSingleThread } from '../../src/store/hash-file.js';
import { dockerConfigDir, registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

async function expectCode(p: Promise<unknown>, code: string, exitCode?: number): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ModelctlError);
  expect((err as ModelctlError).code).toBe(code);
  if (exitCode !== undefined) expect((err as ModelctlError).exitCode).toBe(exitCode);
}

describe.skipIf(!registryAvailable())('OCI registry client', () => {
  let reg: RegistryHandle;
  let dir: string;
  let client: RegistryClient;
  let repo: RegistryRepository;

  beforeAll(async () => {
    reg = await startRegistry();
    dir = mkdtempSync(join(tmpdir(), 'modelctl-oci-client-'));
    client = new RegistryClient({ registry: reg.host, plainHttp: true, credentials: null });
    repo = new RegistryRepository(client, 'team/fraud');
  });
  afterAll(async () => {
    client?.close();
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a small blob in one PUT and a big one in chunks, then HEADs and downloads them verified', async () => {
    const small = randomBytes(1000);
    writeFileSync(join(dir, 'small'), small);
    await uploadFileBlob(repo, { path: join(dir, 'small'), size: small.length, sha256: sha(small) });
    expect(await repo.headBlob(`sha256:${sha(small)}`)).toBe(small.length);

    const big = randomBytes(5 * MiB + 123);
    writeFileSync(join(dir, 'big'), big);
    const states: UploadState[] = [];
    const out = await uploadFileBlob(repo, { path: join(dir, 'big'), size: big.length, sha256: null }, { chunkBytes: MiB, saveState: (s) => s && states.push(s) });
    expect(out.sha256).toBe(sha(big));
    expect(states.map((s) => s.offset)).toEqual([1, 2, 3, 4, 5].map((n) => n * MiB).concat(big.length));
    expect(await repo.headBlob(`sha256:${sha(big)}`)).toBe(big.length);

    const partial = join(dir, 'big.partial');
    let seen = 0;
    await downloadBlob(repo, sha(big), big.length, partial, (n) => (seen += n));
    expect(seen).toBe(big.length);
    expect(sha(readFileSync(partial))).toBe(sha(big));
    expect(await repo.headBlob(`sha256:${sha(randomBytes(8))}`)).toBeNull();
  });

  it('resumes an interrupted chunked upload from the last confirmed chunk', async () => {
    const data = randomBytes(4 * MiB + 7);
    writeFileSync(join(dir, 'resume'), data);
    let last: UploadState | null = null;
    const interrupted = uploadFileBlob(repo, { path: join(dir, 'resume'), size: data.length, sha256: null }, {
      chunkBytes: MiB,
      saveState: (s) => {
        last = s;
        if (s && s.offset >= 2 * MiB) throw new Error('interrupted');
      },
    });
    await expect(interrupted).rejects.toThrow('interrupted');
    expect(last).not.toBeNull();
    expect(await repo.headBlob(`sha256:${sha(data)}`)).toBeNull();
    const out = await uploadFileBlob(repo, { path: join(dir, 'resume'), size: data.length, sha256: null }, { chunkBytes: MiB, resume: last });
    expect(out.resumedFrom).toBe(2 * MiB);
    expect(out.bytesSent).toBe(data.length - 2 * MiB);
    expect(out.sha256).toBe(sha(data));
    expect(await repo.headBlob(`sha256:${sha(data)}`)).toBe(data.length);
  });

  it('starts over when the saved upload session is unknown to the registry', async () => {
    const data = randomBytes(2 * MiB + 1);
    writeFileSync(join(dir, 'stale'), data);
    const bogus = { location: `http://${reg.host}/v2/team/fraud/blobs/uploads/00000000-0000-0000-0000-000000000000?_state=bogus`, offset: MiB };
    const out = await uploadFileBlob(repo, { path: join(dir, 'stale'), size: data.length, sha256: null }, { chunkBytes: MiB, resume: bogus });
    expect(out.resumedFrom).toBe(0);
    expect(await repo.headBlob(`sha256:${sha(data)}`)).toBe(data.length);
  });

  it('refuses an upload whose bytes do not match the digest given', async () => {
    const data = randomBytes(3000);
    writeFileSync(join(dir, 'liar'), data);
    await expectCode(uploadFileBlob(repo, { path: join(dir, 'liar'), size: data.length, sha256: sha(randomBytes(10)) }), 'UPLOAD_DIGEST_MISMATCH', 6);
  });

  it('resumes a download with Range, and refuses and removes a blob whose bytes do not hash to its digest', async () => {
    const data = randomBytes(3 * MiB);
    writeFileSync(join(dir, 'dl'), data);
    await uploadFileBlob(repo, { path: join(dir, 'dl'), size: data.length, sha256: sha(data) });
    const partial = join(dir, 'dl.partial');
    writeFileSync(partial, data.subarray(0, MiB + 5));
    let seen = 0;
    await downloadBlob(repo, sha(data), data.length, partial, (n) => (seen += n));
    expect(seen).toBe(data.length - (MiB + 5));
    expect(sha(readFileSync(partial))).toBe(sha(data));

    // Flip bytes of the blob in the registry's storage: it serves them as they are.
    const blobFile = join(reg.storage, 'docker/registry/v2/blobs/sha256', sha(data).slice(0, 2), sha(data), 'data');
    const stored = readFileSync(blobFile);
    stored[12345] ^= 0xff;
    writeFileSync(blobFile, stored);
    const bad = join(dir, 'bad.partial');
    await expectCode(downloadBlob(repo, sha(data), data.length, bad), 'BLOB_DIGEST_MISMATCH', 6);
    expect(existsSync(bad)).toBe(false);
  });

  it('resumes after a connection dropped mid-blob, the follower told only of prefixes the file holds (the pull path: no sha256 pass)', async () => {
    const data = randomBytes(5 * MiB + 333);
    writeFileSync(join(dir, 'drop'), data);
    await uploadFileBlob(repo, { path: join(dir, 'drop'), size: data.length, sha256: sha(data) });
    // A proxy in front of the registry whose first blob GET sends 3 MiB of the body, then resets.
    let dropped = 0;
    const ranges: string[] = [];
    const proxy = http.createServer((req, res) => {
      const first = req.method === 'GET' && req.url!.includes('/blobs/') && dropped === 0;
      if (req.method === 'GET' && req.url!.includes('/blobs/')) ranges.push(String(req.headers.range ?? ''));
      const up = http.request({ host: '127.0.0.1', port: Number(reg.host.split(':')[1]), method: req.method, path: req.url, headers: req.headers }, (r) => {
        // Blob GETs are redirect-free on the filesystem driver; anything else passes through.
        res.writeHead(r.statusCode!, r.headers);
        if (!first) return void r.pipe(res);
        dropped++;
        let sent = 0;
        r.on('data', (c: Buffer) => {
          if (sent >= 3 * MiB) return;
          sent += c.length;
          res.write(c);
          if (sent >= 3 * MiB) setTimeout(() => res.socket?.destroy(), 50);
        });
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    const viaProxy = new RegistryClient({ registry: `127.0.0.1:${port}`, plainHttp: true, credentials: null });
    try {
      const reported: number[] = [];
      let wrongPrefixes = 0;
      let resets = 0;
      const partial = join(dir, 'drop.partial');
      await downloadBlob(new RegistryRepository(viaProxy, 'team/fraud'), sha(data), data.length, partial, {
        sha256: false,
        blocksInFlight: 0, // the streamed path (blocks have their own tests below)
        follower: {
          written: (n) => {
            reported.push(n);
            // What it is told must already be in the file, byte for byte, with no gap.
            if (!readFileSync(partial).subarray(0, n).equals(data.subarray(0, n))) wrongPrefixes++;
          },
          restart: () => resets++,
        },
      });
      expect(dropped).toBe(1);
      expect(ranges.length).toBeGreaterThanOrEqual(2);
      expect(ranges.at(-1)).toMatch(/^bytes=[1-9]\d*-$/); // the second request asked for the rest
      expect(resets).toBe(0);
      expect(wrongPrefixes).toBe(0);
      expect(reported.length).toBeGreaterThan(2);
      expect(reported.every((n, i) => i === 0 || n > reported[i - 1]!)).toBe(true);
      expect(reported.at(-1)).toBe(data.length);
      expect(sha(readFileSync(partial))).toBe(sha(data));
    } finally {
      viaProxy.close();
      await new Promise((r) => proxy.close(r));
    }
  });

  /** A proxy in front of the registry; `blobGet` may answer a blob GET itself (return true) after looking at it. */
  async function blobProxy(blobGet: (req: http.IncomingMessage, res: http.ServerResponse, forward: (edit?: (h: http.IncomingHttpHeaders) => void, cut?: number) => void) => boolean) {
    const ranges: string[] = [];
    const proxy = http.createServer((req, res) => {
      const forward = (edit?: (h: http.IncomingHttpHeaders) => void, cut?: number) => {
        const headers = { ...req.headers };
        edit?.(headers);
        const up = http.request({ host: '127.0.0.1', port: Number(reg.host.split(':')[1]), method: req.method, path: req.url, headers }, (r) => {
          res.writeHead(r.statusCode!, r.headers);
          if (cut === undefined) return void r.pipe(res);
          let sent = 0;
          r.on('data', (c: Buffer) => {
            if (sent >= cut) return;
            sent += c.length;
            res.write(c);
            if (sent >= cut) setTimeout(() => res.socket?.destroy(), 20);
          });
        });
        req.pipe(up);
      };
      if (req.method === 'GET' && req.url!.includes('/blobs/sha256:')) {
        ranges.push(String(req.headers.range ?? ''));
        if (blobGet(req, res, forward)) return;
      }
      forward();
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const client = new RegistryClient({ registry: `127.0.0.1:${(proxy.address() as AddressInfo).port}`, plainHttp: true, credentials: null });
    return {
      ranges,
      repo: new RegistryRepository(client, 'team/fraud'),
      close: async () => {
        client.close();
        proxy.closeAllConnections();
        await new Promise((r) => proxy.close(r));
      },
    };
  }

  async function uploaded(size: number): Promise<Buffer> {
    const data = randomBytes(size);
    writeFileSync(join(dir, 'blocks'), data);
    await uploadFileBlob(repo, { path: join(dir, 'blocks'), size: data.length, sha256: sha(data) });
    return data;
  }

  for (const [inFlight, block, size] of [
    [1, 4 * MiB, 9 * MiB + 77],
    [2, 16 * MiB, 33 * MiB + 77],
  ] as const) {
    it(`reads a blob from a plain-HTTP registry as ${block / MiB} MiB Range blocks into place with ${inFlight} in flight, the follower told of each prefix in order`, async () => {
      const data = await uploaded(size);
      const p = await blobProxy(() => false);
      try {
        const partial = join(dir, `blocks-${inFlight}.partial`); // named per blob, as a pull names it by digest
        const reported: number[] = [];
        let wrongPrefixes = 0;
        await downloadBlob(p.repo, sha(data), data.length, partial, {
          blocksInFlight: inFlight,
          follower: {
            written: (n) => {
              reported.push(n);
              if (!readFileSync(partial).subarray(0, n).equals(data.subarray(0, n))) wrongPrefixes++;
            },
            restart: () => undefined,
          },
        });
        expect(p.ranges).toEqual([`bytes=0-${block - 1}`, `bytes=${block}-${2 * block - 1}`, `bytes=${2 * block}-${data.length - 1}`]);
        expect(wrongPrefixes).toBe(0);
        expect(reported).toEqual([block, 2 * block, data.length]);
        expect(sha(readFileSync(partial))).toBe(sha(data));
        // A blob the registry lacks is still BLOB_MISSING: the block GET's 404 hands over to the stream path.
        const wrong = join(dir, 'blocks-wrong.partial');
        const other = randomBytes(32).toString('hex');
        await expectCode(downloadBlob(p.repo, other, data.length, wrong, { blocksInFlight: inFlight }), 'BLOB_MISSING', 3);
      } finally {
        await p.close();
      }
    });
  }

  it('with a hashing thread that takes bytes from memory: the blocks go to the file through O_DIRECT and the thread hashes the same bytes', async () => {
    const data = await uploaded(37 * MiB + 5);
    const p = await blobProxy(() => false);
    const partial = join(dir, 'direct.partial');
    const hasher = new FollowHasher(partial, data.length, { MODELCTL_THREADS: '2' });
    try {
      expect(hasher.followsMemory).toBe(true);
      await downloadBlob(p.repo, sha(data), data.length, partial, { sha256: false, blocksInFlight: 2, follower: hasher, direct: true });
      const hashed = await hasher.finish(data.length);
      expect(hasher.hashedOnThread).toBe(true);
      expect(readFileSync(partial).equals(data)).toBe(true);
      const { size, digest, chunks } = hashFileSingleThread(partial);
      expect(hashed).toEqual({ size, digest, chunks });
    } finally {
      hasher.close();
      await p.close();
    }
  });

  it('streams the rest from the gapless prefix when a block is cut short, and all of it when Range is ignored', async () => {
    const data = await uploaded(9 * MiB);
    let n = 0;
    const cut = await blobProxy((req, _res, forward) => {
      if (++n === 2) {
        forward(undefined, MiB); // the second block: 1 MiB of it, then the connection drops
        return true;
      }
      return false;
    });
    try {
      const partial = join(dir, 'cut.partial');
      await downloadBlob(cut.repo, sha(data), data.length, partial, { blocksInFlight: 1 });
      expect(cut.ranges).toEqual([`bytes=0-${4 * MiB - 1}`, `bytes=${4 * MiB}-${8 * MiB - 1}`, `bytes=${4 * MiB}-`]);
      expect(sha(readFileSync(partial))).toBe(sha(data));
    } finally {
      await cut.close();
    }
    const ignoring = await blobProxy((_req, _res, forward) => {
      forward((h) => delete h.range); // a registry (or proxy) that does not do ranges: 200, whole blob
      return true;
    });
    try {
      const partial = join(dir, 'ignored.partial');
      await downloadBlob(ignoring.repo, sha(data), data.length, partial, { blocksInFlight: 2 });
      // Two in flight: 16 MiB blocks, so the first asks for the whole 9 MiB.
      expect(ignoring.ranges.slice(0, 1)).toEqual([`bytes=0-${data.length - 1}`]);
      expect(ignoring.ranges.at(-1)).toBe('');
      expect(sha(readFileSync(partial))).toBe(sha(data));
    } finally {
      await ignoring.close();
    }
  });

  it('stores an artifact manifest byte-exact, lists tags and the catalog, and reads OCI manifests with Accept', async () => {
    const config = Buffer.from('{"descriptor":{"name":"x"},"config":{},"modelfs":{"type":"layers","diffIds":["sha256:' + '0'.repeat(64) + '"]}}');
    writeFileSync(join(dir, 'config'), config);
    await uploadFileBlob(repo, { path: join(dir, 'config'), size: config.length, sha256: sha(config) });
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [],
    }));
    const digest = await repo.putManifest('v1', manifest);
    expect(digest).toBe(`sha256:${sha(manifest)}`);
    const got = await repo.getManifest('v1');
    expect(got?.bytes.equals(manifest)).toBe(true);
    expect(await repo.headManifest('v1')).toBe(digest);
    expect(await repo.getManifest('nope')).toBeNull();
    await repo.putManifest('production', manifest);
    expect((await repo.listTags()).sort()).toEqual(['production', 'v1']);
    expect(await new RegistryRepository(client, 'absent/repo').listTags()).toEqual([]);
    expect(await listCatalog(client)).toContain('team/fraud');
  });

  it('mounts a blob from another repository of the registry', async () => {
    const data = randomBytes(2000);
    writeFileSync(join(dir, 'mount'), data);
    await uploadFileBlob(repo, { path: join(dir, 'mount'), size: data.length, sha256: sha(data) });
    const other = new RegistryRepository(client, 'team/other');
    expect(await other.headBlob(`sha256:${sha(data)}`)).toBeNull();
    expect(await other.mountBlob(`sha256:${sha(data)}`, 'team/fraud')).toBe(true);
    expect(await other.headBlob(`sha256:${sha(data)}`)).toBe(data.length);
  });
});

describe.skipIf(!registryAvailable())('OCI registry auth', () => {
  const regs: RegistryHandle[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const r of regs) await r.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const auth of ['basic', 'token'] as const) {
    it(`${auth}: uses the Docker config login, and says who to ask when there is none or it is wrong`, async () => {
      const reg = await startRegistry({ auth });
      regs.push(reg);
      const cfg = dockerConfigDir(reg.host, reg.username, reg.password);
      dirs.push(cfg);
      const ok = new RegistryClient({ registry: reg.host, plainHttp: true, env: { DOCKER_CONFIG: cfg } });
      const repo = new RegistryRepository(ok, 'auth/model');
      const data = randomBytes(1500);
      const f = join(cfg, 'blob');
      writeFileSync(f, data);
      await uploadFileBlob(repo, { path: f, size: data.length, sha256: sha(data) });
      expect(await repo.headBlob(`sha256:${sha(data)}`)).toBe(data.length);
      expect(ok.credentialSource()).toBe(join(cfg, 'config.json'));
      ok.close();
      if (auth === 'token') {
        expect(reg.tokenRequests.some((t) => t.authorized && t.scope.includes('repository:auth/model:pull,push'))).toBe(true);
      }

      const anonymous = new RegistryClient({ registry: reg.host, plainHttp: true, env: { DOCKER_CONFIG: join(cfg, 'none') } });
      await expectCode(new RegistryRepository(anonymous, 'auth/model').headBlob(`sha256:${sha(data)}`), 'REGISTRY_UNAUTHORIZED', 7);
      anonymous.close();

      const wrong = dockerConfigDir(reg.host, reg.username, 'not-the-password');
      dirs.push(wrong);
      const bad = new RegistryClient({ registry: reg.host, plainHttp: true, env: { DOCKER_CONFIG: wrong } });
      const err = await new RegistryRepository(bad, 'auth/model').headBlob(`sha256:${sha(data)}`).then(() => null, (e: unknown) => e as ModelctlError);
      expect(err?.exitCode).toBe(7);
      expect(err?.code).toBe('REGISTRY_UNAUTHORIZED');
      expect(`${err?.message} ${err?.hint}`).not.toContain('not-the-password');
      bad.close();
    });
  }
});

// Keep the helpers honest: what they leave behind is removed.
describe.skipIf(!registryAvailable())('registry helper', () => {
  it('stops the registry by its pid and removes its storage', async () => {
    const reg = await startRegistry();
    const storage = reg.storage;
    await reg.stop();
    expect(() => process.kill(reg.pid, 0)).toThrow();
    expect(existsSync(storage)).toBe(false);
  });
});
