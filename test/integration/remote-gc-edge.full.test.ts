/**
 * Remote gc, retention and rm on a directory remote (issue 19, docs/design.md §16). The
 * interleaving schedule (remote-gc-schedule.ts) runs in remote-gc-schedule.full.test.ts,
 * on a directory and on Ceph RGW.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcRemote } from '../../src/api/remote-gc.js';
import { remove } from '../../src/api/remove.js';
import { apiEnv, fetchIn, pushIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo } from '../helpers/temp-repo.js';
import { assertRemoteIntact, bytes, setRetention, type RemoteTarget } from './remote-gc-helpers.js';
import { directoryTarget, addOriginIn, commitFilesIn, chunkCount } from '../helpers/remote-gc.js';

/** `rm <ref> --remote origin --reason <reason>`. */
async function rmIn(repo: string, ref: string, reason: string): Promise<void> {
  await remove({ cwd: repo, env: apiEnv(), ref, remote: 'origin', reason, argv: ['rm', ref, '--remote', 'origin', '--reason', reason] });
}

/** `gc --remote origin --grace 0s`. */
async function gcIn(repo: string): Promise<void> {
  await gcRemote({ cwd: repo, env: apiEnv(), remote: 'origin', grace: '0s', argv: ['gc', '--remote', 'origin', '--grace', '0s'] });
}

/** A repository `a` that pushed m@v1 and m@v2 (bytes from `seed` and `seed + 1`) to a new folder remote `t`. */
async function twoPushedVersions(seed: number): Promise<{ t: RemoteTarget; a: string }> {
  const t = directoryTarget();
  const a = tempRepo();
  await addOriginIn(a, t);
  await commitFilesIn(a, 'm', { 'w.bin': bytes(200_000, seed) });
  await commitFilesIn(a, 'm', { 'w.bin': bytes(200_000, seed + 1) });
  await pushIn(a);
  return { t, a };
}

describe('remote gc and retention (directory remote)', () => {

  it('a clone that fetched a version before it was removed: fetch reports the removal, pull refuses it as removed (exit 3), the local copy stays', async () => {
    const { t, a } = await twoPushedVersions(41);
    const c = tempRepo();
    await addOriginIn(c, t);
    await fetchIn(c);

    await rmIn(a, 'm@v2', 'leaked labels');
    await gcIn(a);

    const f = runCli(c, ['fetch', '--json']);
    expect(f.code, f.stderr).toBe(0);
    const m = (f.json().models as { model: string; removedOnRemote: { number: number; reason: string }[] }[]).find((x) => x.model === 'm');
    expect(m?.removedOnRemote.map((r) => [r.number, r.reason])).toEqual([[2, 'leaked labels']]);
    const human = runCli(c, ['fetch']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('v2');
    // Nothing local is deleted.
    expect(runCli(c, ['show', 'm@v2']).code).toBe(0);

    const p = runCli(c, ['pull', 'm@v2', '--json']);
    expect(p.code).toBe(3);
    expect(p.error().code).toBe('VERSION_REMOVED_ON_REMOTE');
    expect((p.error() as unknown as { data: unknown }).data).toMatchObject({ number: 2, reason: 'leaked labels', localFiles: 0 });
    // The version left alone still pulls.
    expect(runCli(c, ['pull', 'm@v1']).code).toBe(0);
  });

  it('versions removed on the remote (rm, then gc): remote status lists them as removed, not missing, and push reports them removed, sending nothing', async () => {
    const { t, a } = await twoPushedVersions(45);
    const c = tempRepo();
    await addOriginIn(c, t);
    await fetchIn(c);
    await rmIn(a, 'm@v2', 'leaked labels');
    await gcIn(a);
    // The clone that removed it, and one that only fetched it before (never since).
    for (const repo of [a, c]) {
      const st = runCli(repo, ['remote', 'status', '--json']);
      expect(st.code, st.stderr).toBe(0);
      const s = st.json().remotes[0] as { models: { model: string; versionsMissing: { ref: string }[] }[]; inSync: string[]; removedOnRemote: { ref: string; reason: string }[] };
      expect(s.removedOnRemote.map((r) => [r.ref, r.reason])).toEqual([['m@v2', 'leaked labels']]);
      expect(s.models.flatMap((m) => m.versionsMissing)).toEqual([]);
      expect(s.inSync).toEqual(['m']);
      const human = runCli(repo, ['remote', 'status']).stdout;
      expect(human).toContain('removed on the remote: m@v2');
      expect(human).not.toContain('not on the remote');

      const p = runCli(repo, ['push', '--json']);
      expect(p.code, p.stderr).toBe(0);
      const r = p.json() as { versions: { ref: string; status: string; removal?: { reason: string } }[]; chunks: { uploaded: number } };
      expect(r.versions.map((v) => [v.ref, v.status])).toEqual([['m@v1', 'already-there'], ['m@v2', 'removed']]);
      expect(r.versions[1].removal?.reason).toBe('leaked labels');
      expect(r.chunks.uploaded).toBe(0);
    }
  });

  it('a clone that never held a version removed before it fetched: pull names the removal, not "unknown reference", with and without a repository', async () => {
    const { t, a } = await twoPushedVersions(43);
    await rmIn(a, 'm@v1', 'trained on leaked rows');

    const c = tempRepo();
    await addOriginIn(c, t);
    const p = runCli(c, ['pull', 'm@v1', '--json']);
    expect(p.code).toBe(3);
    expect(p.error().code).toBe('VERSION_REMOVED_ON_REMOTE');
    expect(p.error().message).toContain('trained on leaked rows');
    expect((p.error() as unknown as { data: unknown }).data).toMatchObject({ number: 1, reason: 'trained on leaked rows', localFiles: 0 });
    const out = join(tempDir(), 'out');
    const outside = runCli(tempDir(), ['pull', 'm@v1', '--remote', t.url, '--out', out, '--json']);
    expect(outside.code).toBe(3);
    expect(outside.error().code).toBe('VERSION_REMOVED_ON_REMOTE');
    expect(existsSync(out)).toBe(false);
    // A number that never existed is still "unknown reference"; the version kept still pulls.
    expect(runCli(c, ['pull', 'm@v9', '--json']).error().code).toBe('UNKNOWN_REF');
    expect(runCli(c, ['pull', 'm@v2']).code).toBe(0);
  });

  it("a push does not trust its memory of chunks after a gc swept: it uploads again what the gc removed", async () => {
    const t = directoryTarget();
    const a = tempRepo();
    await addOriginIn(a, t);
    const shared = bytes(200_000, 5);
    await commitFilesIn(a, 'm', { 'w.bin': shared });
    await commitFilesIn(a, 'm', { 'w.bin': bytes(200_000, 6) });
    await pushIn(a);
    // A gc operator (remote-gc-helpers.ts gcOperator): origin added, keep_last 1.
    const g = tempRepo();
    await addOriginIn(g, t);
    setRetention(g, 'm', { keep_last: 1 });
    await gcIn(g);
    // v3 is v1's bytes again (another file name): its chunk is "known" to this index, but gone.
    const made = await commitFilesIn(a, 'm', { 'again.bin': shared });
    const p = runCli(a, ['push', '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.json().chunks.uploaded).toBe(1);
    assertRemoteIntact(t, 'm', [{ ref: 'm@v3', files: made }]);
  });

  it('keeps young unreferenced objects (a push on its way) for the grace period', async () => {
    const t = directoryTarget();
    const a = tempRepo();
    await addOriginIn(a, t);
    await commitFilesIn(a, 'm', { 'w.bin': bytes(200_000, 1) });
    await pushIn(a);
    await rmIn(a, 'm@v1', 'r');
    const g = tempRepo();
    await addOriginIn(g, t);
    const r = runCli(g, ['gc', '--remote', 'origin', '--json'], { env: t.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().deleted.chunks.count).toBe(0);
    expect(r.json().keptInGrace.count).toBeGreaterThanOrEqual(1);
    expect(chunkCount(t)).toBe(1);
    const bad = runCli(g, ['gc', '--remote', 'origin', '--grace', 'soon', '--json']);
    expect(bad.code).toBe(2);
  });
});
