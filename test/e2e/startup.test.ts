/**
 * Start-up of the built CLI (docs/design.md §1, Build): commands that read nothing
 * untrusted do not load the validator (zod), commit loads no glob library for named files,
 * no simple-git and no tensor readers for files no reader reads, a changed settings file is validated again (and
 * refused when invalid) however often the earlier one was accepted, and a clone that was not
 * built says so instead of printing a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { BIN, cliEnv, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/**
 * Runs the built CLI with a preloaded module that records, at exit, whether zod was
 * evaluated in the process (zod 4 keeps its global configuration on globalThis).
 */
function runWatchingZod(cwd: string, args: string[]): { code: number; zodLoaded: boolean; stderr: string } {
  const marker = join(tempDir('modelctl-zod-'), 'zod');
  const hook = `import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(${JSON.stringify(marker)}, String('__zod_globalConfig' in globalThis)));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: cliEnv({ CI: '1', NO_COLOR: '1' }),
  });
  return { code: r.status ?? 128, zodLoaded: readFileSync(marker, 'utf8') === 'true', stderr: r.stderr };
}

/**
 * Runs the built CLI with a module loader hook that lists every module the process loaded
 * (the module-load trace of docs/design.md §1, Build); returns the dist/ file names.
 */
function runListingModules(cwd: string, args: string[]): { code: number; modules: string[]; stderr: string } {
  const marker = join(tempDir('modelctl-modules-'), 'loaded');
  writeFileSync(marker, '');
  const loader = `import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { appendFileSync(${JSON.stringify(marker)}, url + '\\n'); return next(url, context); }`;
  const hook = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(loader)}`)});`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: cliEnv({ CI: '1', NO_COLOR: '1' }),
  });
  const modules = readFileSync(marker, 'utf8').split('\n').filter((u) => u.includes('/dist/')).map((u) => u.slice(u.lastIndexOf('/') + 1));
  return { code: r.status ?? 128, modules, stderr: r.stderr };
}

describe('validator loading', () => {
  it('read-only commands do not load zod once the settings were validated; changed settings are validated again', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'w.bin', '-m', 'one']).code).toBe(0);
    writeFile(repo, 'w.bin', 'weights 2');
    expect(runCli(repo, ['commit', 'm', 'w.bin', '-m', 'two']).code).toBe(0);
    const readOnly = [['log', 'm'], ['ls'], ['show', 'm'], ['status'], ['status', 'm'], ['diff', 'm@v1', 'm@v2'], ['lineage', 'm'], ['tags', 'm'], ['history'], ['config', 'ls'], ['remote', 'ls']];
    for (const args of readOnly) {
      const r = runWatchingZod(repo, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.zodLoaded, args.join(' ')).toBe(false);
    }
    // A valid change: these bytes were never checked, so the schema runs (zod loads) once.
    const settingsPath = join(repo, 'modelctl.json');
    const settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(settingsPath, JSON.stringify({ ...settings, stages: ['staging', 'production', 'archive'] }, null, 2));
    expect(runWatchingZod(repo, ['log', 'm'])).toMatchObject({ code: 0, zodLoaded: true });
    expect(runWatchingZod(repo, ['log', 'm'])).toMatchObject({ code: 0, zodLoaded: false });
  });

  it('stage moves and tags load no validator unless they read what needs one: modelctl.lock with --lock', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'w.bin', '-m', 'one']).code).toBe(0);
    writeFile(repo, 'w.bin', 'weights 2');
    expect(runCli(repo, ['commit', 'm', 'w.bin', '-m', 'two']).code).toBe(0);
    expect(runCli(repo, ['ls']).code).toBe(0); // the settings' verdict is remembered from here on
    for (const args of [['promote', 'm@v1', '--to', 'staging'], ['promote', 'm@v2', '--to', 'staging'], ['rollback', 'm', '--stage', 'staging', '--yes'], ['tag', 'm@v1', 'rc'], ['promote', 'm@v2', '--to', 'staging', '--dry-run']]) {
      const r = runWatchingZod(repo, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.zodLoaded, args.join(' ')).toBe(false);
    }
    // modelctl.lock is a file anyone can edit: reading it runs its schema.
    expect(runWatchingZod(repo, ['promote', 'm@v2', '--to', 'staging', '--lock'])).toMatchObject({ code: 0, zodLoaded: true });
    expect(JSON.parse(readFileSync(join(repo, 'modelctl.lock'), 'utf8')).models.m).toMatchObject({ number: 2 });
  });

  it('a settings file that turns invalid is refused even though its earlier version was accepted', () => {
    const repo = tempRepo();
    expect(runCli(repo, ['ls']).code).toBe(0);
    const settingsPath = join(repo, 'modelctl.json');
    const settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(settingsPath, JSON.stringify({ ...settings, stages: ['Not A Stage'] }));
    const r = runCli(repo, ['ls', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().code).toBe('INVALID_CONFIG');
    // The local layer is checked the same way.
    writeFileSync(settingsPath, JSON.stringify(settings));
    expect(runCli(repo, ['ls']).code).toBe(0);
    writeFileSync(join(repo, '.modelctl', 'config.json'), JSON.stringify({ checkout: { link: 'teleport' } }));
    expect(runCli(repo, ['ls', '--json']).error().code).toBe('INVALID_CONFIG');
  });

  it('a verdict record written by another build is not trusted', () => {
    const repo = tempRepo();
    expect(runCli(repo, ['ls']).code).toBe(0);
    const record = join(repo, '.modelctl', 'settings-verdicts.json');
    expect(existsSync(record)).toBe(true);
    const bad = Buffer.from(JSON.stringify({ stages: ['Bad'] }));
    writeFileSync(join(repo, 'modelctl.json'), bad);
    // Someone writes a record claiming these bytes were accepted, but by another build.
    writeFileSync(record, JSON.stringify({ build: 'another-build', accepted: [bad.toString('base64')] }));
    expect(runCli(repo, ['ls', '--json']).code).toBe(2);
  });
});

describe('what commit loads', () => {
  it('a commit of named files loads neither the glob library nor simple-git; a folder loads the glob library', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    writeFile(repo, 'model/a.bin', 'a');
    const named = runListingModules(repo, ['commit', 'm', 'w.bin']);
    expect(named.code, named.stderr).toBe(0);
    expect(named.modules.some((m) => m.startsWith('commit-'))).toBe(true);
    expect(named.modules.filter((m) => /^(fast-glob|simple-git|tensor-summary-step)-/.test(m))).toEqual([]);
    const folder = runListingModules(repo, ['commit', 'n', 'model']);
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.modules.some((m) => m.startsWith('fast-glob-'))).toBe(true);
    expect(folder.modules.some((m) => m.startsWith('simple-git-'))).toBe(false);
  });

  it('the tensor header readers load only for a file named like a model format, whose summary is then recorded', () => {
    const repo = tempRepo();
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(header.length));
    writeFile(repo, 'model.safetensors', Buffer.concat([size, header, Buffer.alloc(8, 1)]));
    const r = runListingModules(repo, ['commit', 'm', 'model.safetensors']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.modules.some((m) => m.startsWith('tensor-summary-step-'))).toBe(true);
    expect(runCli(repo, ['show', 'm', '--json']).json()).toMatchObject({ parameters: { files: 1, tensorCount: 1, parameterCount: 2 } });
  });
});

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
  const preload = `import { register } from 'node:module'; import { writeFileSync } from 'node:fs'; ${registerHook} process.on('exit', () => writeFileSync(${JSON.stringify(builtins)}, process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join('\\n')));`;
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

  it('commands that hash nothing do not load node:crypto or node:worker_threads (loaded on first use); commit does', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', 'weights');
    const commit = runTracingModules(repo, ['commit', 'm', 'w.bin', '-m', 'one'], true);
    expect(commit.code, commit.stderr).toBe(0);
    expect(commit.builtins).toContain('crypto');
    settleStatCache(repo, 'w.bin');
    for (const args of [['log', 'm'], ['ls'], ['status']]) {
      const r = runTracingModules(repo, args, true);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.builtins, args.join(' ')).not.toContain('crypto');
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
