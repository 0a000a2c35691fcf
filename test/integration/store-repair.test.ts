/**
 * A corrupt object in the local store is repaired by the command the error names (README,
 * "When verify finds a problem"): verify and checkout move it to .modelctl/quarantine/, so
 * `modelctl pull <ref>` brings it again — from the workspace's intact copy when the file is
 * in place, from the remote when it is not. Before, pull trusted the object it had, reported
 * "all verified", and verify and checkout kept failing on the same bytes. A watcher whose
 * cached object rotted moves it aside and downloads it again instead of failing each restart.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, pushIn, repoWithFolderRemote } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, writeFile } from '../helpers/temp-repo.js';
import { corrupt, digestOf } from '../helpers/store-repair.js';

describe('repairing a corrupt object', () => {
  it('verify moves it aside and names the pull that brings it back; the pull restores it from the intact workspace file', async () => {
    const { repo } = await repoWithFolderRemote();
    const a = pseudoRandomBytes(300_000, 1);
    writeFile(repo, 'm/a.bin', a);
    writeFile(repo, 'm/b.bin', pseudoRandomBytes(200_000, 2));
    await commitIn(repo, 'fraud', ['m'], 'one');
    await pushIn(repo);
    const digest = digestOf(repo, 'fraud@v1', 'm/a.bin');
    const object = corrupt(repo, digest);
    const damaged = readFileSync(object);

    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    const problem = (v.json().problems as { kind: string; id: string; quarantined?: string }[]).find((p) => p.kind === 'corrupt-object')!;
    expect(problem.id).toBe(digest);
    expect(v.json().affected).toEqual(['fraud@v1']);
    expect(v.error().hint).toContain('`modelctl pull fraud@v1`');
    // The bytes are kept for inspection, out of the store.
    expect(existsSync(object)).toBe(false);
    expect(problem.quarantined).toContain(join('.modelctl', 'quarantine', digest));
    expect(readFileSync(problem.quarantined!).equals(damaged)).toBe(true);
    // The next verify tells the truth: the version lacks the object now.
    const again = runCli(repo, ['verify', '--json']);
    expect(again.code).toBe(6);
    expect(again.json().problems).toEqual([expect.objectContaining({ kind: 'missing-object', id: digest })]);

    const pull = runCli(repo, ['pull', 'fraud@v1']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(object).equals(a)).toBe(true);
    expect(runCli(repo, ['verify']).code).toBe(0);
  });

  it('checkout refuses it, moves it aside, and the pull its hint names downloads it again', async () => {
    const { repo } = await repoWithFolderRemote();
    const a = pseudoRandomBytes(300_000, 3);
    writeFile(repo, 'm/a.bin', a);
    await commitIn(repo, 'fraud', ['m'], 'one');
    await pushIn(repo);
    const digest = digestOf(repo, 'fraud@v1', 'm/a.bin');
    corrupt(repo, digest);
    rmSync(join(repo, 'm/a.bin'));

    const co = runCli(repo, ['checkout', 'fraud@v1', '--json']);
    expect(co.code).toBe(6);
    expect(co.error().code).toBe('CORRUPT_OBJECT');
    expect(co.error().hint).toContain('`modelctl pull fraud@v1`');
    expect(existsSync(join(repo, 'm/a.bin'))).toBe(false);
    expect(readdirSync(join(repo, '.modelctl/quarantine'))).toEqual([expect.stringMatching(new RegExp(`^${digest}\\.\\d+$`))]);

    const pull = runCli(repo, ['pull', 'fraud@v1', '--json']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.json().download.chunksDownloaded).toBeGreaterThan(0);
    expect(readFileSync(join(repo, 'm/a.bin')).equals(a)).toBe(true);
    expect(runCli(repo, ['verify']).code).toBe(0);
  });
});
