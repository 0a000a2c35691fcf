/**
 * `serve --remote` and `watch` that cannot start leave no folder behind (README, serve and
 * watch): a remote URL that names no remote, or an OCI registry (they need an object store),
 * is exit 2 before any network contact or folder; a remote that holds no registry removes the
 * cache it made.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/temp-repo.js';

describe('serve --remote and watch that cannot start', () => {
  // A registry stand-in that counts requests: an oci:// remote must be refused without one.
  let requests = 0;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0', 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('an invalid URL or an oci:// remote: exit 2, no cache folder, no request; with nothing listening too', () => {
    for (const remote of ['s3:/bucket/x', `oci://127.0.0.1:${port}/ml`, 'oci://127.0.0.1:1/ml']) {
      const home = tempDir();
      const env = { HOME: home, XDG_CACHE_HOME: '' };
      const serve = runCli(home, ['serve', '--remote', remote, '--port', '0', '--json'], { env });
      expect(serve.code, `${remote}: ${serve.stderr}`).toBe(2);
      expect(serve.error().code).toBe(remote.startsWith('oci') ? 'OCI_REMOTE_UNSUPPORTED' : 'INVALID_REMOTE_URL');
      const watch = runCli(home, ['watch', 'face@production', '--remote', remote, '--out', './f', '--once', '--json'], { env });
      expect(watch.code, `${remote}: ${watch.stderr}`).toBe(2);
      expect(watch.error().code).toBe(remote.startsWith('oci') ? 'OCI_REMOTE_UNSUPPORTED' : 'INVALID_REMOTE_URL');
      expect(readdirSync(home)).toEqual([]);
    }
    expect(requests).toBe(0);
  });

  it('a remote that holds no registry: exit 3, the cache it made is gone (a folder that was there stays)', () => {
    const host = tempDir();
    const r = runCli(host, ['serve', '--remote', '/nonexistent/registry', '--cache', 'X/cache', '--port', '0', '--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.error().code).toBe('NOT_A_REGISTRY');
    expect(existsSync(join(host, 'X'))).toBe(false);
    mkdirSync(join(host, 'kept'));
    expect(runCli(host, ['serve', '--remote', '/nonexistent/registry', '--cache', 'kept', '--port', '0', '--json']).code).toBe(3);
    expect(readdirSync(join(host, 'kept'))).toEqual([]);
    // watch removed the state folder it made already; so it stays.
    expect(runCli(host, ['watch', 'face@production', '--remote', '/nonexistent/registry', '--out', './f', '--once', '--json']).code).toBe(3);
    expect(readdirSync(host)).toEqual(['kept']);
  });
});
