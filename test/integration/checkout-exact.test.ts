import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** Every file and link under `dir` (relative, sorted), modelctl's own folders left out. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.modelctl' || e.name === '.modelctl-placed' || e.name === '.git') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** The files under the work tree's model/ folder, as repository paths. */
function modelFiles(repo: string): string[] {
  return existsSync(join(repo, 'model')) ? listFiles(join(repo, 'model')).map((p) => `model/${p}`) : [];
}

/** v1 = {model/a.bin}; v2 = v1 + model/emotion.bin + model/sub/s.bin (a.bin changed). Arranged through the Node API (setup-api.ts). */
async function twoVersions(repo: string): Promise<void> {
  writeFile(repo, 'model/a.bin', 'a1');
  await commitIn(repo, 'm', ['model'], 'v1');
  writeFile(repo, 'model/a.bin', 'a2');
  writeFile(repo, 'model/emotion.bin', 'emotion');
  writeFile(repo, 'model/sub/s.bin', 'sub');
  await commitIn(repo, 'm', ['model'], 'v2');
}

describe('checkout leaves exactly the version', () => {
  it('goes back to v1 and forward to v2 in the work tree, and the next commit records only what is there', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    const back = runCli(repo, ['checkout', 'm@v1', '--json']);
    expect(back.code).toBe(0);
    expect(back.json().removed.map((r: { path: string }) => r.path)).toEqual(['model/emotion.bin', 'model/sub/s.bin']);
    expect(modelFiles(repo)).toEqual(['model/a.bin']);
    expect(existsSync(join(repo, 'model/sub'))).toBe(false); // emptied folders go too
    expect(readFileSync(join(repo, 'model/a.bin'), 'utf8')).toBe('a1');

    const forward = runCli(repo, ['checkout', 'm@v2', '--json']);
    expect(forward.code).toBe(0);
    expect(modelFiles(repo)).toEqual(['model/a.bin', 'model/emotion.bin', 'model/sub/s.bin']);

    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    const c = runCli(repo, ['commit', 'm', 'model', '-m', 'retrain from v1', '--json']);
    expect(c.code).toBe(0);
    expect(c.json().files.map((f: { path: string }) => f.path)).toEqual(['model/a.bin']);
  });

  it('refuses to remove a changed file the target lacks (exit 4, each path listed) and removes it with --force', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    writeFile(repo, 'model/emotion.bin', 'tuned by hand');
    writeFile(repo, 'model/sub/s.bin', 'also edited');
    const refused = runCli(repo, ['checkout', 'm@v1', '--json']);
    expect(refused.code).toBe(4);
    const err = JSON.parse(refused.stderr.trim().split('\n').pop() as string).error;
    expect(err.code).toBe('WOULD_OVERWRITE');
    expect(err.data.files).toEqual(['model/emotion.bin', 'model/sub/s.bin']);
    expect(err.data.conflicts.every((c: { would: string; reason: string }) => c.would === 'remove' && c.reason === 'changed')).toBe(true);
    // Nothing was touched.
    expect(readFileSync(join(repo, 'model/a.bin'), 'utf8')).toBe('a2');
    expect(readFileSync(join(repo, 'model/emotion.bin'), 'utf8')).toBe('tuned by hand');

    expect(runCli(repo, ['checkout', 'm@v1', '--force']).code).toBe(0);
    expect(modelFiles(repo)).toEqual(['model/a.bin']);
  });

  it('an unknown file in the way is a conflict; an unknown file elsewhere is never removed', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    writeFile(repo, 'model/emotion.bin', 'my own file at a path v2 writes');
    writeFile(repo, 'model/notes.txt', 'not modelctl');
    const refused = runCli(repo, ['checkout', 'm@v2', '--json']);
    expect(refused.code).toBe(4);
    const err = JSON.parse(refused.stderr.trim().split('\n').pop() as string).error;
    expect(err.data.conflicts).toEqual([{ path: 'model/emotion.bin', reason: 'unknown', would: 'overwrite' }]);
    expect(runCli(repo, ['checkout', 'm@v2', '--force']).code).toBe(0);
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    expect(modelFiles(repo)).toEqual(['model/a.bin', 'model/notes.txt']);
  });

  it('a link in the way is reported as a link the first time, with or without --force', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    const outside = tempDir();
    writeFileSync(join(outside, 'secret'), 'outside');
    rmSync(join(repo, 'model/emotion.bin'));
    symlinkSync(join(outside, 'secret'), join(repo, 'model/emotion.bin'));
    for (const args of [[], ['--force']]) {
      const r = runCli(repo, ['checkout', 'm@v2', ...args, '--json']);
      expect(r.code, args.join(' ')).toBe(4);
      const err = JSON.parse(r.stderr.trim().split('\n').pop() as string).error;
      expect(err.data.conflicts).toEqual([{ path: 'model/emotion.bin', reason: 'not-a-file', would: 'overwrite' }]);
      expect(err.hint).not.toMatch(/--force/);
    }
    expect(lstatSync(join(repo, 'model/emotion.bin')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('outside');
  });

  it('a work tree filled before records were kept is taken to hold the latest version', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    rmSync(join(repo, '.modelctl/placed'), { recursive: true, force: true });
    writeFile(repo, 'model/extra.txt', 'mine');
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    expect(modelFiles(repo)).toEqual(['model/a.bin', 'model/extra.txt']);
  });

  it('checkout --out twice into one folder leaves the second version only; --strip-components drops leading folders', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    const out = join(tempDir(), 'deploy');
    expect(runCli(repo, ['checkout', 'm@v2', '--out', out]).code).toBe(0);
    expect(runCli(repo, ['checkout', 'm@v1', '--out', out]).code).toBe(0);
    expect(listFiles(out)).toEqual(['model/a.bin']);

    const flat = join(tempDir(), 'flat');
    expect(runCli(repo, ['checkout', 'm@v2', '--out', flat, '--strip-components', '1']).code).toBe(0);
    expect(listFiles(flat)).toEqual(['a.bin', 'emotion.bin', 'sub/s.bin']);
    expect(runCli(repo, ['checkout', 'm@v1', '--out', flat, '--strip-components', '1']).code).toBe(0);
    expect(listFiles(flat)).toEqual(['a.bin']);
    expect(readFileSync(join(flat, 'a.bin'), 'utf8')).toBe('a1');

    expect(runCli(repo, ['checkout', 'm@v2', '--out', join(tempDir(), 'x'), '--strip-components', '2', '--json']).error().code).toBe('STRIP_TOO_DEEP');
    expect(runCli(repo, ['checkout', 'm@v2', '--strip-components', '1', '--json']).error().code).toBe('STRIP_NEEDS_OUT');
    expect(runCli(repo, ['checkout', 'm@v2', '--out', 'o', '--strip-components', 'one']).code).toBe(2);
  });

  it('--strip-components refuses two files that would land on one path', async () => {
    const repo = tempRepo();
    writeFile(repo, 'a/w.bin', '1');
    writeFile(repo, 'b/w.bin', '2');
    await commitIn(repo, 'm', ['a', 'b'], 'a and b'); // arranged through the Node API (setup-api.ts)
    const r = runCli(repo, ['checkout', 'm', '--out', 'o', '--strip-components', '1', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().code).toBe('STRIP_COLLISION');
    expect(existsSync(join(repo, 'o/w.bin'))).toBe(false);
  });

  it('pull --out twice into one folder with no repository leaves exactly the second version', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    const registry = join(tempDir(), 'registry');
    mkdirSync(registry);
    await remoteAddIn(repo, 'origin', registry, { default: true });
    await pushIn(repo);
    const ci = tempDir();
    expect(runCli(ci, ['pull', 'm@v2', '--remote', registry, '--out', 'model-dir']).code).toBe(0);
    expect(listFiles(join(ci, 'model-dir'))).toEqual(['model/a.bin', 'model/emotion.bin', 'model/sub/s.bin']);
    const again = runCli(ci, ['pull', 'm@v1', '--remote', registry, '--out', 'model-dir', '--json']);
    expect(again.code).toBe(0);
    expect(listFiles(join(ci, 'model-dir'))).toEqual(['model/a.bin']);
    expect(readFileSync(join(ci, 'model-dir/model/a.bin'), 'utf8')).toBe('a1');
  });
});

describe('pull --out without a repository', () => {
  /** Arranged through the Node API (setup-api.ts). */
  async function pushed(): Promise<{ registry: string }> {
    const repo = tempRepo();
    await twoVersions(repo);
    const registry = join(tempDir(), 'registry');
    mkdirSync(registry);
    await remoteAddIn(repo, 'origin', registry, { default: true });
    await pushIn(repo);
    return { registry };
  }

  it('--strip-components places model/a.bin as a.bin, and a second pull replaces the first', async () => {
    const { registry } = await pushed();
    const ci = tempDir();
    expect(runCli(ci, ['pull', 'm@v2', '--remote', registry, '--out', 'serving', '--strip-components', '1']).code).toBe(0);
    expect(listFiles(join(ci, 'serving'))).toEqual(['a.bin', 'emotion.bin', 'sub/s.bin']);
    const r = runCli(ci, ['pull', 'm@v1', '--remote', registry, '--out', 'serving', '--strip-components', '1', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().removed.map((f: { path: string }) => f.path)).toEqual(['emotion.bin', 'sub/s.bin']);
    expect(listFiles(join(ci, 'serving'))).toEqual(['a.bin']);
  });

  it('a failed pull leaves no --out folder behind, and its hints need no repository', async () => {
    const { registry } = await pushed();
    // A hint may name ls or log only as reads of the remote (`--remote <url>`), which need no repository.
    const needsNoRepository = (hint: string) => [...hint.matchAll(/`modelctl (ls|log)\b[^`]*`/g)].every((m) => m[0].includes(`--remote ${registry}`));
    const ci = tempDir();
    const r = runCli(ci, ['pull', 'm@v9', '--remote', registry, '--out', 'deep/serving', '--json']);
    expect(r.code).toBe(3);
    expect(readdirSync(ci)).toEqual([]);
    expect(needsNoRepository(r.error().hint)).toBe(true);
    const unknown = runCli(ci, ['pull', 'nosuch', '--remote', registry, '--out', 'x', '--json']);
    expect(unknown.code).toBe(3);
    expect(needsNoRepository(unknown.error().hint)).toBe(true);
    expect(readdirSync(ci)).toEqual([]);

    // A changed file in the way: the hint does not say "commit".
    expect(runCli(ci, ['pull', 'm@v1', '--remote', registry, '--out', 'srv']).code).toBe(0);
    writeFileSync(join(ci, 'srv/model/a.bin'), 'edited on the server');
    const conflict = runCli(ci, ['pull', 'm@v2', '--remote', registry, '--out', 'srv', '--json']);
    expect(conflict.code).toBe(4);
    expect(conflict.error().hint).not.toMatch(/commit/);
  });
});

describe('a checkout interrupted midway', () => {
  it('leaves a record naming the old and the new files, so the next checkout still removes what it placed', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    const recordPath = join(repo, '.modelctl/placed/m.json');
    const v1Record = JSON.parse(readFileSync(recordPath, 'utf8'));
    expect(runCli(repo, ['checkout', 'm@v2']).code).toBe(0);
    const v2Record = JSON.parse(readFileSync(recordPath, 'utf8'));
    // What applyCheckout writes before touching files: old ∪ new (a.bin twice, two digests).
    writeFileSync(recordPath, JSON.stringify({ ...v2Record, files: [...v1Record.files, ...v2Record.files] }));
    writeFileSync(join(repo, 'model/a.bin'), 'a1'); // the crash came after a.bin went back to v1's bytes
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    expect(modelFiles(repo)).toEqual(['model/a.bin']);
  });

  it('a damaged record removes nothing and is replaced by the next checkout', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    writeFileSync(join(repo, '.modelctl/placed/m.json'), '{"format": 1, "files": "not a list"}');
    expect(runCli(repo, ['checkout', 'm@v1']).code).toBe(0);
    expect(modelFiles(repo)).toEqual(['model/a.bin', 'model/emotion.bin', 'model/sub/s.bin']);
    expect(JSON.parse(readFileSync(join(repo, '.modelctl/placed/m.json'), 'utf8')).files.map((f: { path: string }) => f.path)).toEqual(['model/a.bin']);
  });
});

describe('the --out record and commit', () => {
  it('an --out folder inside the repository never commits its placement record', async () => {
    const repo = tempRepo();
    await twoVersions(repo);
    expect(runCli(repo, ['checkout', 'm@v1', '--out', 'deploy']).code).toBe(0);
    expect(existsSync(join(repo, 'deploy/.modelctl-placed/m.json'))).toBe(true);
    const c = runCli(repo, ['commit', 'served', 'deploy', '--json']);
    expect(c.code).toBe(0);
    expect(c.json().files.map((f: { path: string }) => f.path)).toEqual(['deploy/model/a.bin']);
  });
});
