/**
 * Checkout never leaves a mix of two versions behind when it stops early (README, checkout):
 * every file is staged beside its place first, and only then renamed in. A Ctrl-C while the
 * files are staged (held there at the `checkout-staged` test barrier, src/store/test-barrier.ts)
 * ends it with 130 and the old version untouched; so does a corrupt object met midway (6).
 * On the code before staging, the first file was already replaced in both cases.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { BIN, cliEnv, runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** Every path under `dir` (relative, sorted), the store and git left out. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.modelctl' || e.name === '.git') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** v1 = {a, b}; v2 = {a', b', c}; the work tree holds v2. */
function twoVersions(): { repo: string; v2Files: Record<string, string> } {
  const repo = tempRepo();
  writeFile(repo, 'model/a.bin', 'a one');
  writeFile(repo, 'model/b.bin', 'b one');
  expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
  const v2Files = { 'model/a.bin': 'a two', 'model/b.bin': 'b two', 'model/c.bin': 'c two' };
  for (const [p, text] of Object.entries(v2Files)) writeFile(repo, p, text);
  expect(runCli(repo, ['commit', 'm', 'model', '-m', 'two']).code).toBe(0);
  return { repo, v2Files };
}

/** The work tree holds exactly `files`, and status knows it as version `number`, clean. */
function expectWorkTreeHolds(repo: string, files: Record<string, string>, number: number): void {
  const placed = tree(repo).filter((p) => p.startsWith('model/'));
  expect(placed).toEqual(Object.keys(files).sort()); // no staged temp file left beside them
  for (const [p, text] of Object.entries(files)) expect(readFileSync(join(repo, p), 'utf8')).toBe(text);
  const status = runCli(repo, ['status', 'm', '--json']);
  expect(status.code).toBe(0);
  const m = status.json().models[0];
  expect({ checkedOut: m.checkedOut.number, clean: m.clean }).toEqual({ checkedOut: number, clean: true });
}

describe('checkout stages every file before it replaces any', () => {
  it('Ctrl-C with the files staged: exit 130, the old version untouched, nothing staged left', async () => {
    const { repo, v2Files } = twoVersions();
    const barriers = new Barriers();
    barriers.arm('checkout-staged');
    const child = spawn(process.execPath, [BIN, 'checkout', 'm@v1'], { cwd: repo, env: cliEnv({ CI: '1', ...barriers.env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let errText = '';
    child.stderr!.on('data', (b: Buffer) => (errText += b.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await barriers.reached('checkout-staged');
    // Staged: v1's two files wait beside v2's under temp names.
    expect(tree(join(repo, 'model')).filter((p) => p.endsWith('.modelctl-tmp'))).toHaveLength(2);
    child.kill('SIGINT');
    barriers.release('checkout-staged');
    expect(await exited).toBe(130);
    expect(errText).toContain('interrupted by SIGINT');
    expectWorkTreeHolds(repo, v2Files, 2);
    // The checkout then runs to the end.
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    expectWorkTreeHolds(repo, { 'model/a.bin': 'a one', 'model/b.bin': 'b one' }, 1);
  });

  it('Ctrl-C with the files staged leaves no new folder behind (neither a subfolder of the version nor --out)', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/a.bin', 'a one');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'one']).code).toBe(0);
    writeFile(repo, 'model/sub/deep/c.bin', 'c two');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', 'two']).code).toBe(0);
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    expect(existsSync(join(repo, 'model', 'sub'))).toBe(false);
    for (const args of [['checkout', 'm@v2'], ['checkout', 'm@v2', '--out', 'out/new']]) {
      const barriers = new Barriers();
      barriers.arm('checkout-staged');
      const child = spawn(process.execPath, [BIN, ...args], { cwd: repo, env: cliEnv({ CI: '1', ...barriers.env }), stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      await barriers.reached('checkout-staged');
      child.kill('SIGINT');
      barriers.release('checkout-staged');
      expect(await exited).toBe(130);
      expect(existsSync(join(repo, 'model', 'sub'))).toBe(false);
      expect(existsSync(join(repo, 'out'))).toBe(false);
    }
    expectWorkTreeHolds(repo, { 'model/a.bin': 'a one' }, 1);
  });

  it('killed (-9) with the files staged: the old version in place, and the staged leftovers are never taken for model files', async () => {
    const { repo, v2Files } = twoVersions();
    const barriers = new Barriers();
    barriers.arm('checkout-staged');
    const child = spawn(process.execPath, [BIN, 'checkout', 'm@v1'], { cwd: repo, env: cliEnv({ CI: '1', ...barriers.env }), stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, signal) => r(signal)));
    await barriers.reached('checkout-staged');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const left = tree(join(repo, 'model')).filter((p) => p.endsWith('.modelctl-tmp'));
    expect(left).toHaveLength(2);
    for (const [p, text] of Object.entries(v2Files)) expect(readFileSync(join(repo, p), 'utf8')).toBe(text);
    const status = runCli(repo, ['status', 'm', '--json']).json().models[0];
    expect({ checkedOut: status.checkedOut.number, clean: status.clean, added: status.added }).toEqual({ checkedOut: 2, clean: true, added: [] });
    const again = runCli(repo, ['commit', 'm', 'model', '-m', 'after the crash', '--json']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"created": false');
  });

  it('a corrupt object met midway: exit 6, no file of the work tree replaced', () => {
    const { repo, v2Files } = twoVersions();
    const show = runCli(repo, ['show', 'm@v1', '--json']);
    const digest = (show.json().files as { path: string; digest: string }[]).find((f) => f.path === 'model/b.bin')!.digest;
    const object = join(repo, '.modelctl', 'objects', digest.slice(0, 2), digest.slice(2));
    chmodSync(object, 0o644);
    writeFileSync(object, 'b ONE');
    const r = runCli(repo, ['checkout', 'm@v1']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('corrupt');
    expectWorkTreeHolds(repo, v2Files, 2);
  });
});
