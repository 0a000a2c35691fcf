/**
 * `gc --keep-last N` (README, "gc"): drops the bytes of older versions that are untagged,
 * hold no stage and are on a remote; pull brings them back. It says which older versions it
 * kept whole and why — found by running `gc --keep-last 1` in a repository that had pushed
 * nothing: it printed "kept 5" and nothing else, so it looked as if the flag did nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, promoteIn, pushIn, repoWithFolderRemote, tagIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, writeFile } from '../helpers/temp-repo.js';

const objectPath = (repo: string, digest: string) => join(repo, '.modelctl/objects', digest.slice(0, 2), digest.slice(2));

describe('gc --keep-last', () => {
  it('names each older version it keeps whole and why; once pushed, thins the plain one, whose pull brings it back', async () => {
    const { repo } = await repoWithFolderRemote();
    const digests: string[] = [];
    for (let i = 1; i <= 4; i++) {
      writeFile(repo, 'w.bin', pseudoRandomBytes(80_000, i));
      await commitIn(repo, 'fraud', ['w.bin'], `v${i}`);
      digests.push((runCli(repo, ['show', `fraud@v${i}`, '--json']).json().files as { digest: string }[])[0].digest.replace(/^.*:/, ''));
    }
    await tagIn(repo, 'fraud@v1', 'baseline');
    await promoteIn(repo, 'fraud@v2', 'production');
    const env = { MODELCTL_GC_GRACE_SECONDS: '0' };

    const before = runCli(repo, ['gc', '--keep-last', '1', '--json'], { env });
    expect(before.code, before.stderr).toBe(0);
    expect(before.json().thinnedVersions).toEqual([]);
    expect(before.json().keptOld).toEqual([
      expect.objectContaining({ ref: 'fraud@v3', why: ['on no remote'] }),
      expect.objectContaining({ ref: 'fraud@v2', why: ['staged', 'on no remote'] }),
      expect.objectContaining({ ref: 'fraud@v1', why: ['tagged', 'on no remote'] }),
    ]);
    const text = runCli(repo, ['gc', '--keep-last', '1', '--dry-run'], { env });
    expect(text.stdout).toContain('kept fraud@v3 whole: on no remote (`modelctl push` it first)');

    await pushIn(repo);
    // Within the grace period nothing goes: v3 is not called thinned (a plain gc later would keep it).
    const young = runCli(repo, ['gc', '--keep-last', '1', '--json']);
    expect(young.code, young.stderr).toBe(0);
    expect(young.json().thinnedVersions).toEqual([]);
    expect(young.json().keptOld[0]).toEqual(expect.objectContaining({ ref: 'fraud@v3', why: ['bytes kept'] }));
    expect(existsSync(objectPath(repo, digests[2]))).toBe(true);
    const after = runCli(repo, ['gc', '--keep-last', '1', '--json'], { env });
    expect(after.code, after.stderr).toBe(0);
    expect(after.json().thinnedVersions).toEqual([runCli(repo, ['show', 'fraud@v3', '--json']).json().version.id]);
    expect(after.json().keptOld).toEqual([expect.objectContaining({ ref: 'fraud@v2', why: ['staged'] }), expect.objectContaining({ ref: 'fraud@v1', why: ['tagged'] })]);
    expect(after.json().deleted.map((d: { digest: string }) => d.digest)).toEqual([digests[2]]);
    expect(existsSync(objectPath(repo, digests[2]))).toBe(false);
    for (const i of [0, 1, 3]) expect(existsSync(objectPath(repo, digests[i]))).toBe(true);
    expect(runCli(repo, ['verify']).code).toBe(0);

    const pulled = runCli(repo, ['pull', 'fraud@v3', '--out', join(repo, 'out')]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(existsSync(objectPath(repo, digests[2]))).toBe(true);
  });
});
