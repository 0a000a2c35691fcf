/**
 * A team on one remote (docs/design.md §7), as users meet it: two clones, a second remote,
 * a bad document, a CI cache folder, a reader with no repository. Each case fails on the
 * code before the sync layer: --push used to fetch first and overwrite whatever it found,
 * published state was one flag for every remote, one version without bytes stopped a
 * mirroring push, one bad document stopped a fetch, a repeated pull downloaded everything
 * again, and only pull could read a remote without a repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, deleteTagIn, fetchIn, promoteIn, pullIn, pushIn, remoteAddIn, tagIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { runCli, team, stageDoc, historyIds, holder } from '../helpers/sync-team.js';
const tagDoc = (remote: string, tag: string) => {
  const p = join(remote, 'models/fraud/tags', `${tag}.json`);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string; event: string | null }) : null;
};

/** The error of a stale --push names the ref, who moved it, when, to which version, and the fix. */
function expectStaleRefError(err: { code: string; message: string; hint: string | null; data: { name: string; remoteVersion: string | null; movedBy: string | null; movedAt: string | null } }, name: string, doc: { version: string; actor: string }) {
  expect(err.data.name).toBe(name);
  expect(err.data.remoteVersion).toBe(doc.version);
  expect(err.data.movedBy).toBe(doc.actor);
  expect(err.message).toContain(name);
  expect(err.message).toContain(doc.actor);
  expect(err.message).toContain(err.data.movedAt!);
  expect(err.hint).toContain('modelctl fetch');
}

describe('--push compare-and-swaps against what this repository last fetched', () => {

  it('rollback: the stale clone exits 4 and changes nothing', async () => {
    const { remote, a, b, ids } = await team();
    await promoteIn(a, 'fraud@v1', 'production', { push: true });
    await promoteIn(a, 'fraud@v2', 'production', { push: true });
    await fetchIn(b);
    await promoteIn(a, 'fraud@v3', 'production', { push: true });
    const doc = stageDoc(remote, 'production');
    const before = await historyIds(b);
    const r = await runCli(b, ['rollback', 'fraud', '--stage', 'production', '--push', '--yes', '--json']);
    expect(r.code).toBe(4);
    expect(r.error().code).toBe('STAGE_MOVED');
    expectStaleRefError(r.error(), 'production', doc!);
    expect(r.error().message).toContain('fraud@v3');
    expect(stageDoc(remote, 'production')).toEqual(doc);
    expect(await holder(b, 'production')).toBe(ids[1]);
    expect(await historyIds(b)).toEqual(before);

    // After the fetch the message names, the rollback goes through and its document names its event.
    expect((await runCli(b, ['fetch'])).code).toBe(0);
    expect((await runCli(b, ['rollback', 'fraud', '--stage', 'production', '--push', '--yes'])).code).toBe(0);
    const rolled = stageDoc(remote, 'production')!;
    expect(rolled.version).toBe(ids[1]);
    const moves = (await runCli(b, ['history', 'fraud', '--stage', 'production', '--json'])).json() as { id: string; action: string }[];
    expect(moves[moves.length - 1].action).toBe('rollback');
    expect(rolled.event).toBe(moves[moves.length - 1].id);
  });

  it('tag: a tag made (or moved) on the remote since the last fetch stops the stale clone with exit 4', async () => {
    const { remote, a, b, ids } = await team();
    await tagIn(a, 'fraud@v2', 'rc', { push: true });
    const created = tagDoc(remote, 'rc')!;
    expect(created.version).toBe(ids[1]);
    expect(created.event).not.toBeNull();
    const r = await runCli(b, ['tag', 'fraud@v3', 'rc', '--push', '--json']);
    expect(r.code).toBe(4);
    expect(r.error().code).toBe('TAG_EXISTS');
    expectStaleRefError(r.error(), 'rc', { version: created.version, actor: (JSON.parse(readFileSync(join(remote, 'models/fraud/tags/rc.json'), 'utf8')) as { actor: string }).actor });
    expect((await runCli(b, ['show', 'fraud@rc'])).code).toBe(3);
    expect(tagDoc(remote, 'rc')).toEqual(created);

    // A forced move is compare-and-swap against the last fetch too.
    await fetchIn(b);
    await tagIn(a, 'fraud@v1', 'rc', { force: true, push: true });
    const moved = tagDoc(remote, 'rc');
    const f = await runCli(b, ['tag', 'fraud@v3', 'rc', '--force', '--push', '--json']);
    expect(f.code).toBe(4);
    expect(f.error().data.remoteVersion).toBe(ids[0]);
    expect(f.error().hint).toContain('modelctl fetch');
    expect(tagDoc(remote, 'rc')).toEqual(moved);
    expect((await runCli(b, ['show', 'fraud@rc', '--json'])).json().version.id).toBe(ids[1]);
  });
});

describe('push publishes a tag moved here compare-and-swap against what this repository last fetched', () => {
  it('a --force move made here loses to a newer move there: exit 4 naming the tag and who moved it, the remote tag unchanged', async () => {
    const { remote, a, b, ids } = await team();
    await tagIn(a, 'fraud@v1', 'rel');
    await pushIn(a);
    await fetchIn(b);
    await tagIn(a, 'fraud@v2', 'rel', { force: true }); // here only
    await tagIn(b, 'fraud@v3', 'rel', { force: true, push: true });
    const theirs = JSON.parse(readFileSync(join(remote, 'models/fraud/tags/rel.json'), 'utf8')) as { version: string; actor: string };

    const p = await runCli(a, ['push', '--json']);
    expect(p.code).toBe(4);
    const err = p.error() as { code: string; message: string; hint: string; data: { result: { tags: { tag: string; status: string; remoteVersion: string; movedBy: string }[] } } };
    expect(err.code).toBe('PUSH_CONFLICT');
    expect(err.message).toContain('fraud@rel');
    expect(err.message).toContain(theirs.actor);
    expect(err.message).toContain(ids[2].slice(0, 12));
    expect(err.hint).toContain('modelctl fetch');
    expect(err.data.result.tags).toContainEqual({ model: 'fraud', tag: 'rel', status: 'conflict', remoteVersion: ids[2], movedBy: theirs.actor });
    expect(tagDoc(remote, 'rel')?.version).toBe(ids[2]);
    // b's move stays the remote's, and nobody's history gets a's unpublished move.
    expect((await runCli(b, ['fetch'])).code).toBe(0);
    expect((await runCli(b, ['show', 'fraud@rel', '--json'])).json().version.id).toBe(ids[2]);
  });

  it('a delete made here loses to a move there: exit 4, the remote tag stays; after a fetch the tag is theirs here too', async () => {
    const { remote, a, b, ids } = await team();
    await tagIn(a, 'fraud@v1', 'rel');
    await pushIn(a);
    await fetchIn(b);
    await deleteTagIn(a, 'fraud@rel'); // here only
    await tagIn(b, 'fraud@v2', 'rel', { force: true, push: true });

    const p = await runCli(a, ['push', '--json']);
    expect(p.code).toBe(4);
    expect(p.error().code).toBe('PUSH_CONFLICT');
    expect(p.error().message).toContain('fraud@rel');
    expect(tagDoc(remote, 'rel')?.version).toBe(ids[1]);

    expect((await runCli(a, ['fetch'])).code).toBe(0);
    expect((await runCli(a, ['show', 'fraud@rel', '--json'])).json().version.id).toBe(ids[1]);
    expect((await runCli(a, ['push'])).code).toBe(0);
    expect(tagDoc(remote, 'rel')?.version).toBe(ids[1]);
  });
});

describe('published state is per remote', () => {

  it('push and fetch report a stage that differs between here and the remote', async () => {
    const { b, ids } = await team();
    await promoteIn(b, 'fraud@v1', 'staging');
    const f = await runCli(b, ['fetch', '--json']);
    expect(f.code).toBe(0);
    expect(f.json().differingStages).toEqual([{ model: 'fraud', kind: 'stage', name: 'staging', local: ids[0], remote: null }]);
    expect(f.stderr).toMatch(/staging/);
    const p = await runCli(b, ['push', '--json']);
    expect(p.code).toBe(0);
    expect(p.json().differingStages).toEqual([]);
  });
});

describe('one renumbering path', () => {
  it('push and fetch each record a renumber event for the version they move', async () => {
    const remote = join(tempDir(), 'registry');
    const a = tempRepo();
    const b = tempRepo();
    const c = tempRepo();
    for (const [repo, seed] of [[a, 1], [b, 2], [c, 3]] as const) {
      writeFile(repo, 'm/w.bin', pseudoRandomBytes(20_000, seed));
      await commitIn(repo, 'fraud', ['m'], '', { message: undefined, argv: ['commit', 'fraud', 'm'] });
      await remoteAddIn(repo, 'origin', remote, { default: true });
    }
    const renumbers = async (repo: string) =>
      ((await runCli(repo, ['history', 'fraud', '--json'])).json() as { action: string; from: string; to: string; version: string }[]).filter((e) => e.action === 'renumber');
    await pushIn(a);
    // Push: b's v1 was given away on the remote; b's version takes v2 and says so in its history.
    const pushed = await runCli(b, ['push', '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const bId = pushed.json().versions[0].id as string;
    expect(await renumbers(b)).toEqual([expect.objectContaining({ version: bId, from: 'v1', to: 'v2' })]);
    // Fetch: c's unpushed v1 moves out of the way of the remote's v1 and v2, recorded the same way.
    const cId = (await runCli(c, ['show', 'fraud@v1', '--json'])).json().version.id as string;
    expect((await runCli(c, ['fetch'])).code).toBe(0);
    // One move past both numbers the fetch brought (not v1 → v2 → v3), beside b's renumber that came with the events.
    expect((await renumbers(c)).filter((e) => e.version === cId)).toEqual([expect.objectContaining({ from: 'v1', to: 'v3' })]);
    expect((await renumbers(c)).map((e) => e.version).sort()).toEqual([bId, cId].sort());
    expect((await runCli(c, ['show', 'fraud@v3', '--json'])).json().version.id).toBe(cId);
    // The events travel: a's fetch sees b's renumber, and every chain still verifies.
    expect((await runCli(a, ['fetch'])).code).toBe(0);
    expect((await renumbers(a)).map((e) => e.version)).toEqual([bId]);
    for (const repo of [a, b, c]) expect((await runCli(repo, ['history', '--verify'])).code).toBe(0);
  });
});

describe('mirroring', () => {
  it('push --all to a second remote sends every version whose bytes are here and names each it skipped; naming one exits 6', async () => {
    const { remote, b, ids } = await team();
    // b has the metadata of v1..v3 but the bytes of v2 only; its staging names v3.
    await pullIn(b, 'fraud@v2');
    await promoteIn(b, 'fraud@v3', 'staging');
    const mirror = join(tempDir(), 'mirror');
    const r = await runCli(b, ['push', '--all', '--remote', mirror, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    // The stage waits with its version, and push says it differs.
    expect(out.differingStages).toEqual([{ model: 'fraud', kind: 'stage', name: 'staging', local: ids[2], remote: null }]);
    expect(out.versions.map((v: { id: string }) => v.id)).toEqual([ids[1]]);
    expect(out.skipped.map((s: { ref: string }) => s.ref)).toEqual(['fraud@v1', 'fraud@v3']);
    for (const s of out.skipped) expect(s.hint).toContain(`modelctl pull ${s.ref}`);
    expect(r.stderr).not.toMatch(/ENOENT/);
    expect(readdirSync(join(mirror, 'versions'))).toEqual([`${ids[1]}.json`]);
    // A reader of the mirror gets v2 whole.
    const ci = tempDir();
    expect((await runCli(ci, ['pull', `fraud@${ids[1]}`, '--remote', mirror, '--out', 'o'])).code).toBe(0);
    expect(readFileSync(join(ci, 'o/m/w.bin')).equals(pseudoRandomBytes(50_000, 2))).toBe(true);

    const named = await runCli(b, ['push', 'fraud@v3', '--remote', mirror, '--json']);
    expect(named.code).toBe(6);
    expect(named.error().hint).toContain('modelctl pull fraud@v3');
    void remote;
  });
});

describe('pull reuses what is already there', () => {
  it('a repeated pull into a CI cache folder downloads 0 bytes and leaves the files in place', async () => {
    const { remote } = await team();
    const ci = tempDir();
    const first = await runCli(ci, ['pull', 'fraud@v3', '--remote', remote, '--out', 'cache', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().download.bytesDownloaded).toBeGreaterThan(0);
    const again = await runCli(ci, ['pull', 'fraud@v3', '--remote', remote, '--out', 'cache', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().download.bytesDownloaded).toBe(0);
    expect(again.json().files.every((f: { action: string }) => f.action === 'unchanged')).toBe(true);
    // And says so: the files left in place, not only "0 chunks downloaded, 0 reused".
    const told = await runCli(ci, ['pull', 'fraud@v3', '--remote', remote, '--out', 'cache']);
    expect(told.code, told.stderr).toBe(0);
    expect(told.stdout).toContain(`0 files written (0 B), ${again.json().files.length} unchanged; all verified`);
    // In a repository too: files already in the work tree are not downloaded.
    const d = tempRepo();
    writeFile(d, 'm/w.bin', pseudoRandomBytes(50_000, 3));
    const inRepo = await runCli(d, ['pull', 'fraud@v3', '--remote', remote, '--json']);
    expect(inRepo.code, inRepo.stderr).toBe(0);
    expect(inRepo.json().download.bytesDownloaded).toBe(0);
  });
});
