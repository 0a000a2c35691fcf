/**
 * Starts Debian's docker-registry (CNCF distribution 2.8) for a test: a config file with a
 * temp storage root, 127.0.0.1 and a free port, stopped by its pid. Auth is none, HTTP Basic
 * (an htpasswd file made with apache2-utils' htpasswd), or the Bearer token flow, with a
 * small token server in this process that checks Basic credentials and signs RS256 JWTs
 * with a throwaway certificate the registry trusts (openssl makes it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** True when docker-registry is installed (.ci/install-tools.sh installs it). */
export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BIN);
}

/** A running registry. */
export interface RegistryHandle {
  /** `127.0.0.1:<port>` */
  host: string;
  /** `oci://127.0.0.1:<port>` */
  url: string;
  storage: string;
  auth: 'none' | 'basic' | 'token';
  username: string;
  password: string;
  /** Token requests the token server answered (token auth). */
  tokenRequests: { scope: string[]; authorized: boolean }[];
  /** Requests the registry logged (method and path), when access logging is on. */
  stop(): Promise<void>;
  pid: number;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** Starts a registry; call stop() in afterAll. */
export async function startRegistry(opts: { auth?: 'none' | 'basic' | 'token'; username?: string; password?: string } = {}): Promise<RegistryHandle> {
  const auth = opts.auth ?? 'none';
  const username = opts.username ?? 'modelctl-user';
  const password = opts.password ?? `pw-${randomBytes(12).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'modelctl-registry-'));
  const storage = join(dir, 'storage');
  const port = await freePort();
  const tokenRequests: { scope: string[]; authorized: boolean }[] = [];
  let tokenServer: http.Server | null = null;
  let authYaml = '';
  if (auth === 'basic') {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', username, password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), htpasswd);
    authYaml = `auth:\n  htpasswd:\n    realm: modelctl-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth === 'token') {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'token.key'), '-out', join(dir, 'token.crt'), '-days', '2', '-subj', '/CN=modelctl-test-token'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'token.key'), 'utf8');
    const certDer = new X509Certificate(readFileSync(join(dir, 'token.crt'))).raw;
    const tokenPort = await freePort();
    tokenServer = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${tokenPort}`);
      const scopes = url.searchParams.getAll('scope');
      const header = req.headers.authorization ?? '';
      const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      const authorized = header === expected;
      tokenRequests.push({ scope: scopes, authorized });
      if (header !== '' && !authorized) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      // Anonymous callers get a token with no access (as Docker Hub does for private repositories).
      const access = authorized
        ? scopes.map((s) => {
            const [type, ...rest] = s.split(':');
            const actions = rest.pop() ?? '';
            return { type, name: rest.join(':'), actions: actions === '*' ? ['*'] : actions.split(',') };
          })
        : [];
      const now = Math.floor(Date.now() / 1000);
      const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] }));
      const claims = b64url(JSON.stringify({ iss: 'modelctl-test-issuer', sub: authorized ? username : '', aud: 'modelctl-test-registry', exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
      const sig = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(key);
      const token = `${head}.${claims}.${b64url(sig)}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
    });
    await new Promise<void>((resolve) => tokenServer!.listen(tokenPort, '127.0.0.1', resolve));
    authYaml = `auth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: modelctl-test-registry\n    issuer: modelctl-test-issuer\n    rootcertbundle: ${join(dir, 'token.crt')}\n`;
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    authYaml.trimEnd(),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += c.toString();
  });
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`http://${host}/v2/`, (res) => {
        res.resume();
        resolve(res.statusCode === 200 || res.statusCode === 401);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    url: `oci://${host}`,
    storage,
    auth,
    username,
    password,
    tokenRequests,
    pid: child.pid!,
    async stop() {
      const running = () => child.exitCode === null && child.signalCode === null;
      if (running()) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (running()) process.kill(child.pid!, 'SIGKILL');
      }
      if (tokenServer) await new Promise((r) => tokenServer!.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Docker config folders made in this test file: removed when it ends (some live across its tests). */
const configDirs: string[] = [];
afterAll(() => {
  for (const d of configDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A Docker config folder holding a login for `host` (what `docker login` writes), for DOCKER_CONFIG. */
export function dockerConfigDir(host: string, username: string, password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelctl-docker-config-'));
  configDirs.push(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }, null, 2));
  return dir;
}
