/**
 * How an oci:// push and pull move bytes, through the built CLI against Debian's
 * docker-registry (distribution 2.8) started here on 127.0.0.1 and stopped by its pid:
 * blobs the registry has are skipped (HEAD) or cross-mounted from a sibling repository
 * instead of sent; uploads and downloads run --jobs at a time (a proxy in front of the
 * registry counts the requests in flight); a progress bar on a terminal; logins from
 * ~/.docker/config.json (HOME, no DOCKER_CONFIG); plain HTTP only for loopback hosts or
 * with --plain-http.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/remote/oci/registry-client.js';
import { RegistryRepository } from '../../src/remote/oci/registry-repository.js';
import { sha256 } from '../helpers/oci-artifacts.js';
import { registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { commitIn } from '../helpers/setup-api.js';
import { type AsyncRun, BIN, cliEnv, runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

const MiB = 1024 * 1024;

function cli(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<AsyncRun> {
  return runCliAsync(cwd, args, { env, timeoutMs: 120_000 });
}

/** A clone with model `m` of `files` random files of `size` bytes, committed (through the Node API, setup-api.ts). */
async function randomModel(files: number, size: number, message = 'first'): Promise<{ dir: string; bytes: Buffer[] }> {
  const dir = tempRepo();
  const bytes: Buffer[] = [];
  for (let i = 0; i < files; i++) {
    const b = randomBytes(size);
    bytes.push(b);
    writeFile(dir, `model/part-${i}.bin`, b);
  }
  await commitIn(dir, 'm', ['model'], message);
  return { dir, bytes };
}

/**
 * A proxy in front of the registry that holds each request matching `slow` for `delayMs`
 * before forwarding it, and records the most such requests in flight at once.
 */
async function countingProxy(target: RegistryHandle, slow: (req: http.IncomingMessage) => boolean, delayMs: number) {
  const targetPort = Number(target.host.split(':')[1]);
  const stats = { inFlight: 0, maxInFlight: 0, matched: 0 };
  const server = http.createServer((req, res) => {
    const counted = slow(req);
    const forward = () => {
      const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
        r.on('end', () => {
          if (counted) stats.inFlight--;
        });
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (!counted) return forward();
    stats.matched++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    req.pause();
    setTimeout(forward, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `oci://127.0.0.1:${port}`, stats, close: () => new Promise((r) => server.close(r)) };
}

describe.skipIf(!registryAvailable())('oci:// transfers', () => {
  let reg: RegistryHandle;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('skips blobs the registry has (HEAD) and mounts them from a sibling repository instead of sending them', async () => {
    const a = await randomModel(3, 300_000);
    const first = await cli(a.dir, ['push', '--remote', `${reg.url}/one`, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().chunks.uploaded).toBe(3);
    expect(first.json().bytesUploaded).toBeGreaterThanOrEqual(3 * 300_000);

    // The same files in another clone, as another version (another message): the registry
    // has every file blob in that repository, so HEAD finds them and nothing is sent.
    const b = tempRepo();
    for (let i = 0; i < 3; i++) writeFile(b, `model/part-${i}.bin`, a.bytes[i]);
    await commitIn(b, 'm', ['model'], 'another version, same files'); // set-up (Node API)
    const headed = await cli(b, ['push', '--remote', `${reg.url}/one`, '--json']);
    expect(headed.code, headed.stderr).toBe(0);
    expect(headed.json().chunks.uploaded).toBe(0);
    expect(headed.json().chunks.alreadyThere).toBe(3);
    expect(headed.json().bytesUploaded).toBeLessThan(300_000);

    // The first clone pushes to another repository of the same registry: it knows where the
    // blobs are and mounts them (no bytes sent); the new repository then holds them.
    const client = new RegistryClient({ registry: reg.host, plainHttp: true, credentials: null });
    const two = new RegistryRepository(client, 'two/m');
    expect(await two.headBlob(`sha256:${sha256(a.bytes[0])}`)).toBeNull();
    const mounted = await cli(a.dir, ['push', '--remote', `${reg.url}/two`, '--json']);
    expect(mounted.code, mounted.stderr).toBe(0);
    expect(mounted.json().chunks.uploaded).toBe(0);
    expect(mounted.json().chunks.alreadyThere).toBe(3);
    expect(mounted.json().bytesUploaded).toBeLessThan(300_000);
    for (const bytes of a.bytes) expect(await two.headBlob(`sha256:${sha256(bytes)}`)).toBe(bytes.length);
    client.close();

    // What was mounted pulls back whole.
    const out = tempDir();
    const pulled = await cli(out, ['pull', 'm@v1', '--remote', `${reg.url}/two`, '--out', 'o', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    for (let i = 0; i < 3; i++) expect(readFileSync(join(out, 'o', 'model', `part-${i}.bin`)).equals(a.bytes[i])).toBe(true);
  });

  it('uploads and downloads --jobs files at a time', async () => {
    const isUpload = (req: http.IncomingMessage) => req.url!.includes('/blobs/uploads/') && (req.method === 'PATCH' || req.method === 'PUT');
    const isBlobGet = (req: http.IncomingMessage) => req.method === 'GET' && /\/blobs\/sha256:/.test(req.url!);
    for (const [jobs, expectMax] of [
      [1, (n: number) => expect(n).toBe(1)],
      [4, (n: number) => expect(n).toBeGreaterThanOrEqual(2)],
    ] as const) {
      const { dir } = await randomModel(4, 256 * 1024, `jobs ${jobs}`);
      const up = await countingProxy(reg, isUpload, 300);
      try {
        const r = await cli(dir, ['push', '--remote', `${up.url}/jobs${jobs}`, '--jobs', String(jobs), '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect(up.stats.matched).toBeGreaterThanOrEqual(4);
        expectMax(up.stats.maxInFlight);
      } finally {
        await up.close();
      }
      const down = await countingProxy(reg, isBlobGet, 300);
      try {
        const out = tempDir();
        const r = await cli(out, ['pull', 'm@v1', '--remote', `${down.url}/jobs${jobs}`, '--out', 'o', '--jobs', String(jobs), '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect(down.stats.matched).toBeGreaterThanOrEqual(4);
        expectMax(down.stats.maxInFlight);
      } finally {
        await down.close();
      }
    }
  });

  it('shows a progress bar on a terminal, and none in a pipe', async () => {
    const { dir } = await randomModel(2, 2 * MiB, 'progress');
    // `script` gives the command a pseudo-terminal; its output is what the terminal showed.
    const r = spawnSync('script', ['-qefc', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} push --remote ${reg.url}/progress`, '/dev/null'], { cwd: dir, encoding: 'utf8', env: cliEnv({ CI: '1' }), timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/push .*\d+% \| .*\/.* \| .*\/s/);
    const piped = await cli(dir, ['push', '--remote', `${reg.url}/progress2`]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toMatch(/\d+% \|/);
  });
});

describe.skipIf(!registryAvailable())('oci:// logins and plain HTTP', () => {
  let reg: RegistryHandle;
  let open: RegistryHandle;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
    open = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
    await open?.stop();
  });

  it('reads the login from ~/.docker/config.json when DOCKER_CONFIG is not set', async () => {
    const { dir } = await randomModel(1, 1000);
    const home = tempDir();
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } } }));
    const env = { HOME: home, DOCKER_CONFIG: undefined, REGISTRY_AUTH_FILE: undefined };
    const ok = await cli(dir, ['push', '--remote', `${reg.url}/home`, '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(reg.password);
    // Without the file: refused, with the exit code of a remote failure.
    const none = await cli(dir, ['push', '--remote', `${reg.url}/home2`, '--json'], { ...env, HOME: tempDir() });
    expect(none.code).toBe(7);
    expect(none.error().code).toBe('REGISTRY_UNAUTHORIZED');
  });

  it('uses plain HTTP by itself only for loopback hosts; any other host needs --plain-http', async () => {
    const { dir } = await randomModel(1, 1000);
    // The same registry under an address modelctl does not take for loopback: the IPv4-mapped
    // IPv6 form of 127.0.0.1 (still routed to the registry, so only the policy differs).
    const port = open.host.split(':')[1];
    const probe = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://[::ffff:127.0.0.1]:${port}/v2/`], { encoding: 'utf8' });
    const mappedReachable = probe.status === 0 && probe.stdout === '200';
    const loopback = await cli(dir, ['push', '--remote', `${open.url}/plain`, '--json']);
    expect(loopback.code, loopback.stderr).toBe(0);
    if (!mappedReachable) return; // no IPv6 on this machine: the loopback half above still ran
    const other = `oci://[::ffff:127.0.0.1]:${port}/plain`;
    const refused = await cli(dir, ['push', '--remote', other, '--json']);
    expect(refused.code).toBe(7);
    expect(refused.error().code).not.toBe('INTERNAL');
    const allowed = await cli(dir, ['push', '--remote', other, '--plain-http', '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    // remote add records the choice, so later commands need no flag.
    expect((await cli(dir, ['remote', 'add', 'lab', other, '--plain-http'])).code).toBe(0);
    expect((await cli(dir, ['fetch', '--remote', 'lab', '--json'])).code).toBe(0);
  });
});
