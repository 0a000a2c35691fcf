/**
 * Remote gc, retention and rm on a directory remote (issue 19, docs/design.md §16). The
 * interleaving schedule (remote-gc-schedule.ts) runs in remote-gc-schedule.full.test.ts,
 * on a directory and on Ceph RGW.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSet } from '../../src/api/config.js';
import { gcRemote } from '../../src/api/remote-gc.js';
import { remove } from '../../src/api/remove.js';
import { apiEnv, commitIn, fetchIn, promoteIn, pushIn, remoteAddIn, tagIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { assertRemoteIntact, bytes, removedNumbers, setRetention, type RemoteTarget } from './remote-gc-helpers.js';

export function directoryTarget(): RemoteTarget {
  return { url: join(tempDir('modelctl-remote-'), 'r'), env: { MODELCTL_REMOTE_GC_LEASE_MS: '1500' }, addArgs: [] };
}

/*
 * Set-up steps arranged through the Node API (setup-api.ts), in this process; what each test
 * checks still runs through the CLI. rm and gc --remote are not in src/index.ts: their api
 * modules are imported directly.
 */

/** `remote add origin <t.url> --default` (a folder remote: no extra flags, no credentials). */
async function addOriginIn(repo: string, t: RemoteTarget): Promise<void> {
  await remoteAddIn(repo, 'origin', t.url, { default: true });
}

/** Writes `files` and commits them as a new version of `model` (remote-gc-helpers.ts commitFiles, in process). */
async function commitFilesIn(repo: string, model: string, files: Record<string, Buffer>): Promise<Record<string, Buffer>> {
  for (const [p, b] of Object.entries(files)) writeFile(repo, p, b);
  await commitIn(repo, model, Object.keys(files), 'x');
  return files;
}

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

function chunkCount(t: RemoteTarget): number {
  const dir = join(t.url, 'chunks');
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.~')).length : 0;
}

describe('remote gc and retention (directory remote)', () => {
  it('keeps everything without a policy; with one, removes what it lets go, says why the rest stays, and never reuses a number', async () => {
    const t = directoryTarget();
    const a = tempRepo();
    await addOriginIn(a, t);
    const made: Record<string, Buffer>[] = [];
    for (const i of [1, 2, 3, 4, 5]) made.push(await commitFilesIn(a, 'm', { 'w.bin': bytes(200_000, i) }));
    await tagIn(a, 'm@v2', 'golden');
    await promoteIn(a, 'm@v3', 'production');
    await promoteIn(a, 'm@v4', 'production');
    await pushIn(a);

    // No policy: nothing goes.
    const g = tempRepo();
    await addOriginIn(g, t);
    const none = runCli(g, ['gc', '--remote', 'origin', '--grace', '0s', '--json'], { env: t.env });
    expect(none.code, none.stderr).toBe(0);
    expect(none.json().removedVersions).toEqual([]);
    expect(none.json().keptVersions.every((v: { reasons: string[] }) => v.reasons.includes('no-policy'))).toBe(true);
    expect(chunkCount(t)).toBe(5);

    // keep_last 1: v1 goes; v2 tagged, v3 held production before, v4 holds it, v5 newest.
    setRetention(g, 'm', { keep_last: 1 });
    const dry = runCli(g, ['gc', '--remote', 'origin', '--grace', '0s', '--dry-run', '--json'], { env: t.env });
    expect(dry.code, dry.stderr).toBe(0);
    const plan = dry.json();
    expect(plan.removedVersions.map((v: { number: number }) => v.number)).toEqual([1]);
    expect(plan.deleted.chunks.count).toBe(1);
    expect(plan.deleted.bytes).toBeGreaterThanOrEqual(200_000);
    const why = Object.fromEntries(plan.keptVersions.map((v: { number: number; reasons: string[] }) => [v.number, v.reasons]));
    expect(why).toEqual({ 2: ['tag:golden'], 3: ['ever-held:production'], 4: ['stage:production'], 5: ['keep_last'] });
    expect(chunkCount(t)).toBe(5); // a dry run deletes nothing

    const real = runCli(g, ['gc', '--remote', 'origin', '--grace', '0s', '--json'], { env: t.env });
    expect(real.code, real.stderr).toBe(0);
    expect(real.json().removedVersions.map((v: { number: number }) => v.number)).toEqual([1]);
    expect(chunkCount(t)).toBe(4);
    expect(removedNumbers(g, t, 'm')).toEqual([1]);
    assertRemoteIntact(t, 'm', [2, 3, 4, 5].map((n) => ({ ref: `m@v${n}`, files: { 'w.bin': made[n - 1]['w.bin'] } })));

    // keep_ever_held [] lets v3 go too; the next version is v6, never a removed number.
    setRetention(g, 'm', { keep_last: 1, keep_ever_held: [] });
    const again = runCli(g, ['gc', '--remote', 'origin', '--grace', '0s', '--json'], { env: t.env });
    expect(again.json().removedVersions.map((v: { number: number }) => v.number)).toEqual([3]);
    const b = tempRepo();
    await addOriginIn(b, t);
    await fetchIn(b);
    await commitFilesIn(b, 'm', { 'w.bin': bytes(200_000, 77) });
    const pushed = runCli(b, ['push', '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.json().versions.filter((v: { status: string }) => v.status === 'uploaded').map((v: { number: number }) => v.number)).toEqual([6]);
    // A clone never sees the removed versions.
    expect(runCli(b, ['show', 'm@v1']).code).toBe(3);
    expect(runCli(b, ['show', 'm@v3']).code).toBe(3);
  }, 180_000);

  it('rm: needs a reason, refuses a version holding a stage or a tag, records the reason, and gc reclaims its bytes', async () => {
    const t = directoryTarget();
    const a = tempRepo();
    await addOriginIn(a, t);
    const made: Record<string, Buffer>[] = [];
    for (const i of [1, 2, 3]) made.push(await commitFilesIn(a, 'm', { 'w.bin': bytes(200_000, 10 + i) }));
    await promoteIn(a, 'm@v1', 'staging');
    await tagIn(a, 'm@v2', 'rc1');
    await pushIn(a);

    const noReason = runCli(a, ['rm', 'm@v3', '--remote', 'origin', '--json']);
    expect(noReason.code).toBe(2);
    const staged = runCli(a, ['rm', 'm@v1', '--remote', 'origin', '--reason', 'x', '--json']);
    expect(staged.code).toBe(5);
    expect(staged.error().code).toBe('VERSION_HOLDS_STAGE');
    const tagged = runCli(a, ['rm', 'm@v2', '--remote', 'origin', '--reason', 'x', '--json']);
    expect(tagged.code).toBe(5);

    const rm = runCli(a, ['rm', 'm@v3', '--remote', 'origin', '--reason', 'trained on leaked test data', '--json']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.json()).toMatchObject({ number: 3, removed: true });
    const twice = runCli(a, ['rm', 'm@v3', '--remote', 'origin', '--reason', 'again', '--json']);
    expect(twice.code).toBe(0);
    expect(twice.json().removed).toBe(false);

    // Another clone sees the event with its reason, and not the version.
    const b = tempRepo();
    await addOriginIn(b, t);
    await fetchIn(b);
    const h = runCli(b, ['history', 'm', '--json']).json() as { action: string; reason: string | null }[];
    expect(h.filter((e) => e.action === 'remove').map((e) => e.reason)).toEqual(['trained on leaked test data']);
    expect(runCli(b, ['show', 'm@v3']).code).toBe(3);

    // The bytes go at the next gc (no retention policy needed: the version is removed).
    expect(chunkCount(t)).toBe(3);
    const g = runCli(b, ['gc', '--remote', 'origin', '--grace', '0s', '--json']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.json().deleted.chunks.count).toBe(1);
    expect(chunkCount(t)).toBe(2);
    assertRemoteIntact(t, 'm', [1, 2].map((n) => ({ ref: `m@v${n}`, files: { 'w.bin': made[n - 1]['w.bin'] } })));
    // The number stays taken.
    await commitFilesIn(b, 'm', { 'w.bin': bytes(200_000, 99) });
    expect(runCli(b, ['push', '--json']).json().versions.filter((v: { status: string }) => v.status === 'uploaded').map((v: { number: number }) => v.number)).toEqual([4]);
  });

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

  it('a folder has no write-once storage: events_retention is refused and history --verify --remote says so', async () => {
    const t = directoryTarget();
    const a = tempRepo();
    const refused = runCli(a, ['remote', 'add', 'origin', t.url, '--default', '--events-retention', '7y', '--json']);
    expect(refused.code).toBe(2);
    expect(refused.error().code).toBe('INVALID_REMOTE_OPTION');
    // Set by hand, it refuses a push before anything is written there.
    await addOriginIn(a, t);
    await commitFilesIn(a, 'm', { 'w.bin': bytes(200_000, 3) });
    await pushIn(a);
    const listing = () => readdirSync(t.url, { recursive: true }).sort();
    const before = listing();
    await configSet({ cwd: a, env: apiEnv(), key: 'remotes.origin.events_retention', value: '7y', shared: true });
    await tagIn(a, 'm@v1', 'first');
    const p = runCli(a, ['push', '--json']);
    expect(p.code).toBe(2);
    expect(p.error().code).toBe('OBJECT_LOCK_UNAVAILABLE');
    expect(listing()).toEqual(before);
    const h = runCli(a, ['history', '--verify', '--remote', 'origin', '--json']);
    expect(h.code).toBe(6);
    expect(h.error().code).toBe('EVENTS_NOT_LOCKED');
  });
});
