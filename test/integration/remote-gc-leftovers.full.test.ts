/**
 * What a killed push leaves on a folder remote (docs/design.md §16): the temp file it was
 * writing beside the target, named `.~modelctl-tmp-…`, which no listing shows. Remote gc
 * takes the ones untouched for the grace period, and nothing else of the backend's own.
 */
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** Writes `name` under `dir` with `size` bytes, last written `ageMs` ago. */
function plant(dir: string, name: string, size: number, ageMs: number): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, Buffer.alloc(size, 7));
  const at = new Date(Date.now() - ageMs);
  utimesSync(p, at, at);
  return p;
}

describe('remote gc on a folder remote', () => {
  it('deletes the temp files of killed uploads older than the grace period, and keeps younger ones and locks', async () => {
    const remote = join(tempDir(), 'registry');
    const a = tempRepo();
    // Arranged through the Node API (setup-api.ts).
    writeFile(a, 'm/w.bin', pseudoRandomBytes(300_000, 1));
    await commitIn(a, 'fraud', ['m'], 'v1');
    await remoteAddIn(a, 'origin', remote, { default: true });
    await pushIn(a);

    const hour = 3_600_000;
    const oldChunk = plant(join(remote, 'chunks'), '.~modelctl-tmp-0a1b2c3d4e5f6a7b8c', 40_000, 3 * hour);
    const oldTag = plant(join(remote, 'models/fraud/tags'), '.~modelctl-tmp-99aa88bb77cc66dd55', 120, 2 * hour);
    const young = plant(join(remote, 'chunks'), '.~modelctl-tmp-ffeeddccbbaa998877', 5_000, 60_000);
    const lock = plant(join(remote, 'models/fraud/stages'), '.~modelctl-lock-production.json', 80, 3 * hour);

    const dry = runCli(a, ['gc', '--remote', 'origin', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json().deleted.tempFiles).toEqual({ count: 2, bytes: 40_120 });
    expect(dry.json().deleted.chunks.count).toBe(0);
    expect([oldChunk, oldTag, young, lock].every((p) => existsSync(p))).toBe(true);

    const human = runCli(a, ['gc', '--remote', 'origin', '--dry-run']);
    expect(human.stdout).toContain('2 temp files of killed uploads');

    const real = runCli(a, ['gc', '--remote', 'origin', '--yes', '--json']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.json().deleted.tempFiles).toEqual({ count: 2, bytes: 40_120 });
    expect(existsSync(oldChunk)).toBe(false);
    expect(existsSync(oldTag)).toBe(false);
    // A younger temp file may belong to a push under way; a lock is its owner's to release.
    expect(existsSync(young)).toBe(true);
    expect(existsSync(lock)).toBe(true);

    // Everything the remote holds is still whole: a second clone pulls v1, verified.
    const verify = runCli(a, ['verify', '--remote', 'origin', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    const b = tempDir();
    const pulled = runCli(b, ['pull', 'fraud@v1', '--remote', remote, '--out', 'o', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readdirSync(join(b, 'o', 'm'))).toEqual(['w.bin']);

    // With --grace 0s the younger one goes too (no writer is active, as the option says).
    const all = runCli(a, ['gc', '--remote', 'origin', '--grace', '0s', '--yes', '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.json().deleted.tempFiles.count).toBe(1);
    expect(existsSync(young)).toBe(false);
  });
});
