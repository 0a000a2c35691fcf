/**
 * Starts s3rver (an S3 emulator, see S3-SERVERS.md) for a test: on 127.0.0.1, a free port,
 * a fresh temp folder, with the bucket already created. It accepts any credentials.
 *
 * s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 refuses unless Node
 * runs with --openssl-legacy-provider (vitest.config.ts passes it to the test workers).
 * When this process lacks it, the server runs in a child Node process that has it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A running s3rver and how to reach it. */
export interface S3rverHandle {
  /** e.g. http://127.0.0.1:40123 */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where s3rver keeps its objects (removed by stop()). */
  directory: string;
  /** 'in-process' or 'child' (when DES is unavailable here). */
  mode: 'in-process' | 'child';
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (opts: Record<string, unknown>) => S3rverInstance;

/** True when this Node can create DES ciphers (i.e. the OpenSSL legacy provider is loaded). */
export function legacyCryptoAvailable(): boolean {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

/** Starts s3rver with `bucket` (default "modelctl-test") created; call stop() in afterAll. */
export async function startS3rver(opts: { bucket?: string; forceChild?: boolean } = {}): Promise<S3rverHandle> {
  const bucket = opts.bucket ?? 'modelctl-test';
  const directory = await mkdtemp(path.join(tmpdir(), 'modelctl-s3rver-'));
  const base = {
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    directory,
  };
  const serverOptions = {
    port: 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  };
  try {
    if (legacyCryptoAvailable() && opts.forceChild !== true) {
      // s3rver is CommonJS without type declarations.
      const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
      const server = new S3rver(serverOptions);
      const { port } = await server.run();
      return {
        ...base,
        endpoint: `http://127.0.0.1:${port}`,
        mode: 'in-process',
        stop: async () => {
          await server.close();
          await rm(directory, { recursive: true, force: true });
        },
      };
    }
    const { child, port } = await startChild(serverOptions);
    return {
      ...base,
      endpoint: `http://127.0.0.1:${port}`,
      mode: 'child',
      stop: async () => {
        await stopChild(child);
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
}

async function startChild(serverOptions: Record<string, unknown>): Promise<{ child: ChildProcess; port: number }> {
  const s3rverPath = createRequire(import.meta.url).resolve('s3rver');
  // Runs until its stdin closes (so it cannot outlive the test process) or it gets SIGTERM.
  const script = `
    const S3rver = require(${JSON.stringify(s3rverPath)});
    const server = new S3rver(${JSON.stringify(serverOptions)});
    server.run().then(({ port }) => process.stdout.write(JSON.stringify({ port }) + '\\n'),
      (err) => { console.error(err); process.exit(1); });
    const stop = () => server.close().finally(() => process.exit(0));
    process.stdin.on('end', stop).resume();
    process.on('SIGTERM', stop);
  `;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) {
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`s3rver child exited with ${code} before listening`)));
    child.once('error', reject);
  });
  return { child, port };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}
