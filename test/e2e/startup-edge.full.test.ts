/**
 * Start-up of the built CLI (docs/design.md §1, Build): commands that read nothing
 * untrusted do not load the validator (zod), commit loads no glob library for named files,
 * no simple-git and no tensor readers for files no reader reads, a changed settings file is validated again (and
 * refused when invalid) however often the earlier one was accepted, and a clone that was not
 * built says so instead of printing a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runWatchingZod } from '../helpers/startup.js';

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
