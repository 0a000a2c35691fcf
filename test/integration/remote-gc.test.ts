/**
 * Remote gc, retention and rm on a directory remote (issue 19, docs/design.md §16). The
 * interleaving schedule (remote-gc-schedule.ts) runs in remote-gc-schedule.full.test.ts,
 * on a directory and on Ceph RGW.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSet } from '../../src/api/config.js';
import { apiEnv, fetchIn, promoteIn, pushIn, tagIn } from '../helpers/setup-api.js';
import { runCli, tempRepo } from '../helpers/temp-repo.js';
import { assertRemoteIntact, bytes, removedNumbers, setRetention } from './remote-gc-helpers.js';
import { directoryTarget, addOriginIn, commitFilesIn, chunkCount } from '../helpers/remote-gc.js';

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
