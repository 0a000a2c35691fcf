/**
 * A team on one remote (docs/design.md §7), as users meet it: two clones, a second remote,
 * a bad document, a CI cache folder, a reader with no repository. Each case fails on the
 * code before the sync layer: --push used to fetch first and overwrite whatever it found,
 * published state was one flag for every remote, one version without bytes stopped a
 * mirroring push, one bad document stopped a fetch, a repeated pull downloaded everything
 * again, and only pull could read a remote without a repository.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promoteIn, pushIn, remoteAddIn, tagIn } from '../helpers/setup-api.js';
import { tempDir, tempRepo } from '../helpers/temp-repo.js';
import { runCli, team, stageDoc, historyIds, holder } from '../helpers/sync-team.js';

describe('--push compare-and-swaps against what this repository last fetched', () => {
  it('promote: the stale clone exits 4 even after the other finished, changes nothing, and says who, when, what and how to fix it', async () => {
    const { remote, a, b, ids } = await team();
    await promoteIn(a, 'fraud@v2', 'production', { push: true });
    // The stage document names the event of the move.
    const doc = stageDoc(remote, 'production')!;
    expect(doc.version).toBe(ids[1]);
    const aEvents = (await runCli(a, ['history', 'fraud', '--stage', 'production', '--json'])).json() as { id: string; action: string }[];
    expect(doc.event).toBe(aEvents[aEvents.length - 1].id);

    // b has not fetched since: its promotion must lose, although a's command has ended.
    const before = await historyIds(b);
    const r = await runCli(b, ['promote', 'fraud@v3', '--to', 'production', '--push', '--yes', '--json']);
    expect(r.code).toBe(4);
    const err = r.error() as { code: string; message: string; hint: string; data: { remoteVersion: string; movedBy: string; movedAt: string } };
    expect(err.code).toBe('STAGE_MOVED');
    expect(err.data.remoteVersion).toBe(ids[1]);
    expect(err.data.movedBy).toBe(doc.actor);
    expect(err.message).toContain('production');
    expect(err.message).toContain(err.data.movedAt);
    expect(err.hint).toContain('modelctl fetch');
    // Nothing changed, here or there.
    expect(stageDoc(remote, 'production')).toEqual(doc);
    expect(await holder(b, 'production')).toBeNull();
    expect(await historyIds(b)).toEqual(before);

    // The fix the message names: fetch, then retry.
    expect((await runCli(b, ['fetch'])).code).toBe(0);
    expect((await runCli(b, ['promote', 'fraud@v3', '--to', 'production', '--push', '--yes'])).code).toBe(0);
    expect(stageDoc(remote, 'production')).toMatchObject({ version: ids[2], previous: ids[1] });
  });
});

describe('published state is per remote', () => {
  it('a second remote receives the events, tags and stages the first got; remote status says what differs', async () => {
    const { a, ids } = await team();
    await tagIn(a, 'fraud@v1', 'baseline');
    await promoteIn(a, 'fraud@v2', 'staging');
    await pushIn(a);
    const mirror = join(tempDir(), 'mirror');
    await remoteAddIn(a, 'mirror', mirror);

    // Before: the mirror lacks everything, and says so.
    const before = await runCli(a, ['remote', 'status', 'mirror', '--json']);
    expect(before.code, before.stderr).toBe(0);
    // No registry there yet (as with a mistyped URL): said, not only "everything is missing".
    expect(before.json().remotes[0].registry).toBe(false);
    expect((await runCli(a, ['remote', 'status', 'mirror'])).stdout).toContain('holds no modelctl registry yet (no MODELCTL.json');
    const st = before.json().remotes[0].models[0];
    expect(st.versionsMissing.map((v: { id: string }) => v.id)).toEqual(ids);
    expect(st.tags).toEqual([expect.objectContaining({ name: 'baseline', local: ids[0], remote: null })]);
    expect(st.stages).toEqual([expect.objectContaining({ name: 'staging', local: ids[1], remote: null })]);
    expect(st.unpublishedEvents).toBe((await historyIds(a)).length);
    // origin has it all.
    expect((await runCli(a, ['remote', 'status', 'origin', '--json'])).json().remotes[0]).toMatchObject({ registry: true, models: [], inSync: ['fraud'] });

    expect((await runCli(a, ['push', '--remote', 'mirror'])).code).toBe(0);
    expect((await runCli(a, ['remote', 'status', '--json'])).json().remotes.map((r: { models: unknown[] }) => r.models)).toEqual([[], []]);
    // A clone of the mirror sees the same history, tags and stages.
    const c = tempRepo();
    expect((await runCli(c, ['fetch', '--remote', mirror])).code).toBe(0);
    expect(new Set(await historyIds(c))).toEqual(new Set(await historyIds(a)));
    expect(await holder(c, 'staging')).toBe(ids[1]);
    expect(await holder(c, 'baseline')).toBe(ids[0]);
  });
});

describe('one bad document never blocks a team', () => {
  it('fetch skips a corrupt manifest and a hostile tag, brings everything else, lists them and exits 6; a valid version still pulls', async () => {
    const { remote, a, ids } = await team();
    await tagIn(a, 'fraud@v1', 'good', { push: true });
    await tagIn(a, 'fraud@v2', 'evil', { push: true });
    await promoteIn(a, 'fraud@v1', 'staging', { push: true });
    const manifest = join(remote, 'versions', `${ids[2]}.json`);
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"message":"v3"', '"message":"v4"'));
    writeFileSync(join(remote, 'models/fraud/tags/evil.json'), '{"version":"../../x"}');
    // A truncated stage, a truncated number and one naming a manifest that is not there,
    // an event altered after it was written and one cut short.
    await promoteIn(a, 'fraud@v2', 'production', { push: true });
    const production = join(remote, 'models/fraud/stages/production.json');
    writeFileSync(production, readFileSync(production, 'utf8').slice(0, 20));
    writeFileSync(join(remote, 'models/fraud/numbers/8.json'), '{"vers');
    writeFileSync(join(remote, 'models/fraud/numbers/9.json'), JSON.stringify({ version: 'a'.repeat(64) }));
    const eventsDir = join(remote, 'models/fraud/events');
    const tagEvents = readdirSync(eventsDir).filter((f) => JSON.parse(readFileSync(join(eventsDir, f), 'utf8')).action === 'tag');
    expect(tagEvents).toHaveLength(2);
    const [altered, cut] = tagEvents.map((f) => join(eventsDir, f));
    writeFileSync(altered, readFileSync(altered, 'utf8').replace('"host":"', '"host":"forged-'));
    writeFileSync(cut, readFileSync(cut, 'utf8').slice(0, 40));

    const c = tempRepo();
    const r = await runCli(c, ['fetch', '--remote', remote, '--json']);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    const err = r.error() as { data: { rejected: { key: string }[] } };
    expect(err.data.rejected.map((x) => x.key).sort()).toEqual(
      [
        'models/fraud/numbers/8.json',
        'models/fraud/numbers/9.json',
        'models/fraud/stages/production.json',
        'models/fraud/tags/evil.json',
        `versions/${ids[2]}.json`,
        ...tagEvents.map((f) => `models/fraud/events/${f}`),
      ].sort(),
    );
    expect((await runCli(c, ['show', 'fraud@production'])).code).toBe(3);
    const fetchedEvents = new Set(await historyIds(c));
    for (const f of tagEvents) expect(fetchedEvents.has(/([0-9a-f]{64})\.json$/.exec(f)![1])).toBe(false);
    // The promote event of production arrived: only its stage document was bad.
    expect(((await runCli(c, ['history', 'fraud', '--stage', 'production', '--json'])).json() as unknown[]).length).toBe(1);
    // Everything valid came.
    const log = (await runCli(c, ['log', 'fraud', '--json'])).json().versions.map((v: { id: string }) => v.id);
    expect(log).toEqual([ids[1], ids[0]]);
    expect(await holder(c, 'good')).toBe(ids[0]);
    expect(await holder(c, 'staging')).toBe(ids[0]);
    expect((await runCli(c, ['show', 'fraud@evil'])).code).toBe(3);
    expect((await runCli(c, ['history', '--verify'])).code).toBe(0);

    // Pulls: the valid version succeeds, the corrupt one is exit 6.
    const ci = tempDir();
    expect((await runCli(ci, ['pull', 'fraud@v1', '--remote', remote, '--out', 'o'])).code).toBe(0);
    expect((await runCli(ci, ['pull', 'fraud@v3', '--remote', remote, '--out', 'p'])).code).toBe(6);
    expect(existsSync(join(ci, 'p'))).toBe(false);
  });
});

describe('a remote can be read without a repository', () => {
  it('ls, log, show and history --remote <url> work outside a repository and leave nothing behind', async () => {
    const { remote, a, ids } = await team();
    await promoteIn(a, 'fraud@v2', 'staging', { push: true });
    const outside = tempDir();
    const ls = await runCli(outside, ['ls', '--remote', remote, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json().models).toEqual([expect.objectContaining({ name: 'fraud', versions: 3, stages: { staging: { number: 2, id: ids[1] } } })]);
    const log = await runCli(outside, ['log', 'fraud', '--remote', remote, '--json']);
    expect(log.json().versions.map((v: { id: string }) => v.id)).toEqual([...ids].reverse());
    const show = await runCli(outside, ['show', 'fraud@staging', '--remote', remote, '--json']);
    expect(show.json().version.id).toBe(ids[1]);
    const hist = await runCli(outside, ['history', 'fraud', '--remote', remote, '--json']);
    expect(new Set((hist.json() as { id: string }[]).map((e) => e.id))).toEqual(new Set(await historyIds(a)));
    expect(readdirSync(outside)).toEqual([]);
    // A name that says nothing there: exit 3, and the hint reads the remote too.
    const missing = await runCli(outside, ['show', 'fraud@v9', '--remote', remote, '--json']);
    expect(missing.code).toBe(3);
    expect(missing.error().hint).toContain(`--remote ${remote}`);
    const unpulled = await runCli(outside, ['pull', 'fraud@v9', '--remote', remote, '--out', 'o', '--json']);
    expect(unpulled.code).toBe(3);
    expect(unpulled.error().hint).toContain(`modelctl log fraud --remote ${remote}`);
    expect(readdirSync(outside)).toEqual([]);
    // A fresh clone (modelctl.json, no .modelctl/ yet) reads its configured remote by name.
    const clone = tempDir();
    writeFileSync(join(clone, 'modelctl.json'), readFileSync(join(a, 'modelctl.json')));
    const byName = await runCli(clone, ['log', 'fraud', '--remote', 'origin', '--json']);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.json().versions).toHaveLength(3);
    expect(readdirSync(clone)).toEqual(['modelctl.json']);
    // Inside a repository, --remote reads the remote and leaves the local index alone.
    const d = tempRepo();
    expect((await runCli(d, ['log', 'fraud', '--remote', remote])).code).toBe(0);
    expect((await runCli(d, ['log', 'fraud'])).code).toBe(3);
  });
});
