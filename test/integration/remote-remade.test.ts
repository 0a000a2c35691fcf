import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/**
 * A remote emptied, or made anew under the same URL, is not the remote the index remembers:
 * push must not report versions "already there" that are gone (docs/design.md §7, the
 * format marker's identity).
 */
describe('a remote emptied or made anew under the same URL', () => {
  it('push uploads again what the index remembered as there, and a fresh clone can pull it', () => {
    const remote = join(tempDir(), 'registry');
    const a = tempRepo();
    writeFile(a, 'model/w.bin', pseudoRandomBytes(300_000, 1));
    expect(runCli(a, ['commit', 'face', 'model', '-m', 'one']).code).toBe(0);
    expect(runCli(a, ['remote', 'add', 'origin', remote]).code).toBe(0);
    expect(runCli(a, ['push']).code).toBe(0);
    expect(runCli(a, ['promote', 'face@v1', '--to', 'staging', '--push']).code).toBe(0);

    // Emptied: the next push finds no marker, writes one, and so knows its memory is stale.
    rmSync(remote, { recursive: true, force: true });
    const again = runCli(a, ['push', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().versions.map((v: { ref: string; status: string }) => [v.ref, v.status])).toEqual([['face@v1', 'uploaded']]);
    expect(again.json().bytesUploaded).toBeGreaterThanOrEqual(300_000);
    const b = tempRepo();
    const pulled = runCli(b, ['pull', 'face@staging', '--remote', remote, '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);

    // Made anew by a teammate (another marker, another time): a's memory is of the old one.
    rmSync(remote, { recursive: true, force: true });
    const c = tempRepo();
    writeFile(c, 'other/w.bin', pseudoRandomBytes(50_000, 2));
    expect(runCli(c, ['commit', 'other', 'other', '-m', 'c']).code).toBe(0);
    expect(runCli(c, ['push', '--remote', remote]).code).toBe(0);
    const onNew = runCli(a, ['push', '--json']);
    expect(onNew.code, onNew.stderr).toBe(0);
    expect(onNew.json().versions.map((v: { status: string }) => v.status)).toEqual(['uploaded']);
    const d = tempRepo();
    const ls = runCli(d, ['ls', '--remote', remote, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.stringify(ls.json())).toContain('"face"');
    expect(runCli(d, ['pull', 'face@staging', '--remote', remote]).code).toBe(0);
  });
});
