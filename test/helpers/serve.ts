/**
 * Starts `modelctl serve --port 0 --json` (the built CLI) for a test and hands back its URL;
 * stop() sends SIGTERM to that one process and waits for its exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, cliEnv } from './temp-repo.js';

/** A running `modelctl serve`. */
export interface ServeHandle {
  url: string;
  /** The start document `serve --json` printed. */
  started: { url: string; mode: string; folder: string; remote: string | null; tokenRequired: boolean; ui: boolean };
  child: ChildProcess;
  /** Everything the server wrote to stderr so far (its log). */
  stderr(): string;
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

/** Runs `modelctl serve` in `cwd` with extra `args`; resolves once it listens. */
export function startServe(cwd: string, args: string[] = [], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ServeHandle> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', ...args], {
    cwd,
    env: cliEnv({ CI: '1', NO_COLOR: '1', ...opts.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`modelctl serve did not start in time; stderr:\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
      let started: ServeHandle['started'];
      try {
        started = JSON.parse(stdout);
      } catch {
        return; // the document is not complete yet
      }
      clearTimeout(timer);
      resolve({ url: started.url, started, child, stderr: () => stderr, stop });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`modelctl serve exited with ${code}; stderr:\n${stderr}`), { exitCode: code, stderr }));
    });
  });
}
