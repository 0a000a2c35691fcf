import { lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { listFiles, modelFiles, twoVersions, pushed } from '../helpers/checkout-exact.js';

describe('checkout leaves exactly the version', () => {

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

  it('pull --out twice into one folder with no repository leaves exactly the second version', async () => {
    const { registry } = await pushed();
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
