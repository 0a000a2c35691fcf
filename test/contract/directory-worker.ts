/**
 * Builds a child-process worker that uses the real directory backend, for the
 * cross-process race tests. Node 20 cannot run TypeScript, so the sources the backend
 * needs are transpiled (typescript's transpileModule: no type-check, milliseconds) into a
 * temp folder once per test file.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A folder holding transpiled src/errors.js and src/remote/*.js plus worker.mjs. */
export interface WorkerBuild {
  dir: string;
  cleanup(): Promise<void>;
}

/** Transpiles the backend and writes the worker script; call cleanup() in afterAll. */
export async function buildDirectoryWorker(): Promise<WorkerBuild> {
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const dir = await mkdtemp(path.join(tmpdir(), 'modelctl-worker-'));
  const sources = ['src/errors.ts', 'src/store/temp-files.ts', ...(await readdir(path.join(repoRoot, 'src/remote'))).filter((f) => f.endsWith('.ts')).map((f) => `src/remote/${f}`)];
  for (const rel of sources) {
    const out = ts.transpileModule(await readFile(path.join(repoRoot, rel), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: rel,
    });
    const target = path.join(dir, rel.replace(/\.ts$/, '.js'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, out.outputText);
  }
  await writeFile(path.join(dir, 'package.json'), '{"type":"module"}\n');
  await writeFile(path.join(dir, 'worker.mjs'), WORKER_SOURCE);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

// Each worker opens the remote, says "ready", waits for "go" on stdin (so all workers
// start their writes together), does its job and prints one JSON result line.
const WORKER_SOURCE = `
import { createDirectoryRemote } from './src/remote/directory.js';
const job = JSON.parse(process.argv[2]);
const remote = createDirectoryRemote({ root: job.root, staleLockMs: job.staleLockMs, lockWaitMs: job.lockWaitMs });
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const result = { won: false, code: null, retries: 0 };
try {
  if (job.mode === 'race') {
    await remote.put(job.key, Buffer.from(job.body), { condition: { ifAbsent: true } });
    result.won = true;
  } else if (job.mode === 'cas') {
    for (let done = 0; done < job.increments; ) {
      const current = await remote.get(job.key);
      const next = Buffer.from(String(Number(current.body.toString()) + 1));
      try {
        await remote.put(job.key, next, { condition: { ifMatch: current.etag } });
        done++;
      } catch (err) {
        if (err.code !== 'PRECONDITION_FAILED') throw err;
        result.retries++;
      }
    }
    result.won = true;
  }
} catch (err) {
  result.code = err.code ?? String(err);
}
process.stdout.write(JSON.stringify(result) + '\\n');
`;

/** The result line a worker prints. */
export interface WorkerResult {
  won: boolean;
  code: string | null;
  retries: number;
}

/** Starts `jobs.length` workers, releases them at once, and returns their results in order. */
export async function runWorkers(build: WorkerBuild, jobs: Record<string, unknown>[]): Promise<WorkerResult[]> {
  const children = jobs.map((job) =>
    spawn(process.execPath, [path.join(build.dir, 'worker.mjs'), JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const lines = children.map((child) => {
    const waiters: ((line: string) => void)[] = [];
    const buffered: string[] = [];
    let partial = '';
    child.stdout.on('data', (data: Buffer) => {
      partial += data.toString();
      let nl: number;
      while ((nl = partial.indexOf('\n')) !== -1) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else buffered.push(line);
      }
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return {
      next: () =>
        buffered.length > 0
          ? Promise.resolve(buffered.shift()!)
          : Promise.race([
              new Promise<string>((resolve) => waiters.push(resolve)),
              exited.then((code) => Promise.reject(new Error(`worker exited with ${code} before answering`))),
            ]),
    };
  });
  for (const l of lines) expectLine(await l.next(), 'ready');
  for (const child of children) child.stdin.write('go\n');
  const results = await Promise.all(lines.map(async (l) => JSON.parse(await l.next()) as WorkerResult));
  for (const child of children) child.stdin.end();
  return results;
}

function expectLine(line: string, expected: string): void {
  if (line !== expected) throw new Error(`worker said ${JSON.stringify(line)}, expected ${expected}`);
}
