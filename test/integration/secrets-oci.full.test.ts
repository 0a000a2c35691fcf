/**
 * Registry credentials never leak (the secret-scan of secrets.full.test.ts, for oci:// remotes):
 * a session against docker-registry with HTTP Basic and with the Bearer token flow — remote
 * add, push, fetch, pull in a repository and without one, ls/log/show --remote, promote
 * --push — with the login in a Docker config; then a hostile registry that echoes the
 * request's Authorization header and its token into every error message. Every output, every
 * file modelctl wrote (index and WAL read raw, modelctl.json, the --out folders) and the
 * registry's storage are searched for the password, the user:password pair and the tokens.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { LeakFinder } from '../helpers/secret-scan.js';
import { dockerConfigDir, registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { pseudoRandomBytes, runCliAsync, tempDir, tempRepo, writeFile, type AsyncRun } from '../helpers/temp-repo.js';

const tag = randomBytes(4).toString('hex');
const USER = `ociuser${tag}`;
const PASSWORD = `OciPassw0rd${tag.toUpperCase()}Leak`;

const regs: RegistryHandle[] = [];
afterAll(async () => {
  for (const r of regs) await r.stop();
});

async function run(finder: LeakFinder, cwd: string, args: string[], env: Record<string, string>): Promise<AsyncRun> {
  const r = await runCliAsync(cwd, args, { env, timeoutMs: 120_000 });
  finder.output(args.join(' '), r);
  return r;
}

describe.skipIf(!registryAvailable())('registry credentials never appear in outputs, the index, events or the registry', () => {
  for (const auth of ['basic', 'token'] as const) {
    it(`${auth}: a realistic session, searched everywhere`, async () => {
      const reg = await startRegistry({ auth, username: USER, password: PASSWORD });
      regs.push(reg);
      const docker = dockerConfigDir(reg.host, USER, PASSWORD);
      const env = { DOCKER_CONFIG: docker };
      const finder = new LeakFinder({ password: PASSWORD, 'user:password': `${USER}:${PASSWORD}` });
      const url = `${reg.url}/team`;
      const a = tempRepo();
      writeFile(a, 'model/w.safetensors', pseudoRandomBytes(300_000, 3));
      expect((await run(finder, a, ['commit', 'fraud', 'model', '-m', 'one'], env)).code).toBe(0);
      expect((await run(finder, a, ['remote', 'add', 'origin', url, '--default'], env)).code).toBe(0);
      expect((await run(finder, a, ['push', '--json'], env)).code).toBe(0);
      expect((await run(finder, a, ['push'], env)).code).toBe(0);
      expect((await run(finder, a, ['promote', 'fraud@v1', '--to', 'staging', '--yes', '--push'], env)).code).toBe(0);
      const b = tempRepo();
      expect((await run(finder, b, ['remote', 'add', 'origin', url, '--default'], env)).code).toBe(0);
      expect((await run(finder, b, ['fetch', '--json'], env)).code).toBe(0);
      expect((await run(finder, b, ['pull', 'fraud@staging', '--out', 'out'], env)).code).toBe(0);
      const ci = tempDir();
      expect((await run(finder, ci, ['pull', 'fraud@staging', '--remote', url, '--out', 'model', '--json'], env)).code).toBe(0);
      expect((await run(finder, ci, ['ls', '--remote', url], env)).code).toBe(0);
      expect((await run(finder, ci, ['log', 'fraud', '--remote', url, '--json'], env)).code).toBe(0);
      expect((await run(finder, ci, ['show', 'fraud@staging', '--remote', url], env)).code).toBe(0);
      // Refused logins say so without the secret.
      const wrong = dockerConfigDir(reg.host, USER, `${PASSWORD}x`);
      expect((await run(finder, a, ['push', '--remote', url], { DOCKER_CONFIG: wrong })).code).toBe(7);
      for (const [dir, label] of [[a, 'repo a'], [b, 'repo b'], [ci, 'ci']] as const) finder.tree(dir, label);
      finder.tree(reg.storage, 'registry storage');
      expect(finder.scanned.outputs).toBeGreaterThan(10);
      finder.expectNone();
    });
  }

  it('a hostile registry that echoes the credentials and token into its errors: not repeated', async () => {
    const token = `hostileToken${tag}${randomBytes(12).toString('hex')}`;
    let server: Server | null = null;
    const port = await new Promise<number>((resolve) => {
      server = createServer((req, res) => {
        const auth = String(req.headers.authorization ?? '');
        const origin = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
        req.resume();
        if (req.url?.startsWith('/token')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
          return;
        }
        if (!auth.startsWith('Bearer')) {
          res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token",service="hostile"`, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}');
          return;
        }
        const echo = `you sent ${auth}; token ${token}; and we remember ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')} and ${PASSWORD}`;
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DENIED', message: echo }] }));
      });
      server.listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
    });
    try {
      const docker = dockerConfigDir(`127.0.0.1:${port}`, USER, PASSWORD);
      const env = { DOCKER_CONFIG: docker };
      const finder = new LeakFinder({ password: PASSWORD, 'user:password': `${USER}:${PASSWORD}`, token });
      const url = `oci://127.0.0.1:${port}/team`;
      const a = tempRepo();
      writeFile(a, 'model/w.bin', 'weights');
      expect((await run(finder, a, ['commit', 'fraud', 'model'], env)).code).toBe(0);
      expect((await run(finder, a, ['push', '--remote', url, '--json'], env)).code).toBe(7);
      expect((await run(finder, a, ['push', '--remote', url], env)).code).toBe(7);
      const ci = tempDir();
      expect((await run(finder, ci, ['pull', 'fraud@v1', '--remote', url, '--out', 'x', '--json'], env)).code).not.toBe(0);
      expect((await run(finder, ci, ['ls', '--remote', url], env)).code).not.toBe(0);
      finder.tree(a, 'repo a');
      finder.tree(ci, 'ci');
      finder.expectNone();
    } finally {
      await new Promise((r) => server!.close(r));
    }
  });
});

