import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { listFiles, modelFiles, twoVersions, pushed } from '../helpers/checkout-exact.js';

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
});

describe('pull --out without a repository', () => {

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
