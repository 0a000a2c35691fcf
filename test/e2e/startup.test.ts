/**
 * Start-up of the built CLI (docs/design.md §1, Build): commands that read nothing
 * untrusted do not load the validator (zod), commit loads no glob library for named files,
 * no simple-git and no tensor readers for files no reader reads, a changed settings file is validated again (and
 * refused when invalid) however often the earlier one was accepted, and a clone that was not
 * built says so instead of printing a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { BIN, cliEnv, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runWatchingZod } from '../helpers/startup.js';

describe('untrusted input on the read-only paths is still validated', () => {
  it('status validates modelctl.lock when there is one (an invalid lock is exit 2)', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'w.bin']).code).toBe(0);
    writeFile(repo, 'modelctl.lock', JSON.stringify({ format: 1, models: { m: { version: 'not-an-id', number: 1, files: {} } } }));
    const r = runWatchingZod(repo, ['status']);
    expect(r.code).toBe(2);
    expect(r.zodLoaded).toBe(true);
  });

  it('show checks a stored signature bundle with its schema (a malformed one is reported invalid, not trusted)', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'w.bin']).code).toBe(0);
    writeKeyPair(repo, 'release', { type: 'ec', curve: 'prime256v1' });
    expect(runCli(repo, ['config', 'set', '--shared', 'trust.keys.release', 'release.pub']).code).toBe(0);
    expect(runCli(repo, ['sign', 'm', '--key', 'release.pem']).code).toBe(0);
    const signed = runWatchingZod(repo, ['show', 'm', '--json']);
    expect(signed.code).toBe(0);
    expect(signed.zodLoaded).toBe(true);
    expect(runCli(repo, ['show', 'm', '--json']).json().signatures).toMatchObject([{ kind: 'signature', keyName: 'release', valid: true }]);
    // The stored bundle turns into something that is not a Sigstore bundle: show says invalid.
    const db = new Database(join(repo, '.modelctl', 'index.db'));
    db.prepare('UPDATE signatures SET bundle = ?').run(Buffer.from(JSON.stringify({ mediaType: 'x' })));
    db.close();
    expect(runCli(repo, ['show', 'm', '--json']).json().signatures).toMatchObject([{ keyName: 'release', valid: false }]);
  });
});

/**
 * Runs the built CLI recording which of its files Node's module loader read (a `load` hook,
 * registered by a preloaded module, appends each URL to a file) or, with `builtinsOnly`,
 * only which built-ins it loaded (`process.moduleLoadList` at exit; the hook would add
 * the worker thread it runs in).
 */
function runTracingModules(cwd: string, args: string[], builtinsOnly = false): { code: number; files: string[]; builtins: string[]; stderr: string } {
  const dir = tempDir('modelctl-modules-');
  const loaded = join(dir, 'loaded');
  const builtins = join(dir, 'builtins');
  writeFileSync(loaded, '');
  const hook = `import { appendFileSync } from 'node:fs'; let out; export function initialize(d) { out = d.out; } export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(out, url + '\\n'); return next(url, context); }`;
  const registerHook = builtinsOnly ? '' : `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)}, { data: { out: ${JSON.stringify(loaded)} } });`;
  // node:fs through require: its ES module facade reads fs.ReadStream, which loads the stream modules.
  const preload = `import { createRequire, register } from 'node:module'; const { writeFileSync } = createRequire('/preload.cjs')('node:fs'); ${registerHook} process.on('exit', () => writeFileSync(${JSON.stringify(builtins)}, process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join('\\n')));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: cliEnv({ CI: '1', NO_COLOR: '1' }),
  });
  const dist = join(BIN, '..', '..', 'dist');
  const files = readFileSync(loaded, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((u) => fileURLToPath(u))
    .filter((f) => f.startsWith(dist))
    .map((f) => relative(dist, f));
  return { code: r.status ?? 128, files, builtins: readFileSync(builtins, 'utf8').split('\n'), stderr: r.stderr };
}

/**
 * status hashes a file changed in the last two seconds again, and records its stat only once
 * it is older than that (src/workspace/stat-cache.ts, the racy-clean rule): waits until `rel`
 * is, then runs one status, which records it; later ones read nothing.
 */
function settleStatCache(repo: string, rel: string): void {
  const wait = statSync(join(repo, rel)).ctimeMs + 2_100 - Date.now();
  if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
  expect(runCli(repo, ['status']).code).toBe(0);
}

/** Built file names without rollup's content hash (`chunks/hot-status-_Py6XFyO.js` → `chunks/hot-status`), sorted. */
const chunkNames = (files: string[]) => files.map((f) => f.replace(/-[\w-]{8}\.js$/, '')).sort();

describe('what a command loads (docs/design.md §1, Build)', () => {
  it('the read commands load the CLI entry, the early chunk and the hot chunk (and their own part of it), nothing else; --version only the first two', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'w.bin', '-m', 'one']).code).toBe(0);
    settleStatCache(repo, 'w.bin'); // else status may read the file, and load the hashing chunks
    for (const args of [['log', 'm'], ['ls'], ['show', 'm'], ['status']]) {
      const r = runTracingModules(repo, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      // Besides: the command's own part of the hot set when it is big enough (hot-status).
      const own = `chunks/hot-${args[0]}`;
      expect(chunkNames(r.files).filter((f) => f !== own), args.join(' ')).toEqual(['chunks/early', 'chunks/hot', 'cli/main.js']);
    }
    const version = runTracingModules(repo, ['--version']);
    expect(version.code).toBe(0);
    expect(chunkNames(version.files)).toEqual(['chunks/early', 'cli/main.js']);
  });

  it('read commands do not load node:crypto or node:worker_threads (loaded on first use); commit does', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    const commit = runTracingModules(repo, ['commit', 'm', 'w.bin', '-m', 'one'], true);
    expect(commit.code, commit.stderr).toBe(0);
    expect(commit.builtins).toContain('crypto');
    settleStatCache(repo, 'w.bin');
    // show checks the manifest's bytes against the version id in JavaScript (core/manifest-id.ts):
    // no crypto module of Node's at all, not even WebCrypto's.
    for (const args of [['log', 'm'], ['ls'], ['status'], ['show', 'm']]) {
      const r = runTracingModules(repo, args, true);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.builtins.filter((m) => /(^|\/)crypto(\/|$)/.test(m)), args.join(' ')).toEqual([]);
      // stdout and stderr are pipes here: written without Node's stream objects (cli/std-write.ts).
      expect(r.builtins, args.join(' ')).not.toContain('stream');
      expect(r.builtins, args.join(' ')).not.toContain('worker_threads');
    }
  });
});

describe('launcher', () => {
  it('run from a clone that was not built, it says to run npm run build (exit 1, no stack trace)', () => {
    const clone = tempDir('modelctl-unbuilt-');
    mkdirSync(join(clone, 'bin'));
    copyFileSync(BIN, join(clone, 'bin', 'modelctl.js'));
    writeFileSync(join(clone, 'package.json'), JSON.stringify({ name: 'modelctl', type: 'module' }));
    const r = spawnSync(process.execPath, [join(clone, 'bin', 'modelctl.js'), 'log', 'm'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/npm run build/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
