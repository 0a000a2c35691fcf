import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { commitIn, tagIn } from '../helpers/setup-api.js';
import { runCli, writeFile } from '../helpers/temp-repo.js';
import { commitVersion, lifecycleRepo } from './lifecycle-helpers.js';

describe('tag / tags', () => {
  it('creates a tag, which then resolves as a reference', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const r = runCli(repo, ['tag', 'fraud@v1', '1.4.0', '-m', 'release candidate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ action: 'tag', changed: true, model: 'fraud', tag: '1.4.0', previous: null });
    expect(out.version.id).toBe(v1.id);
    expect(out.version.tags).toEqual(['1.4.0']);
    expect(out.event).toMatchObject({ action: 'tag', version: v1.id, from: null, to: v1.id, reason: 'release candidate', data: { tag: '1.4.0' } });
    expect(out.event.seq).toBeGreaterThan(0);
    expect(out.event.hash).toMatch(/^[0-9a-f]{64}$/);
    const d = runCli(repo, ['diff', 'fraud@1.4.0', 'fraud@v1', '--json']);
    expect(d.code).toBe(0);
    expect(d.json().identical).toBe(true);
  });

  it('tags are immutable: re-tagging another version exits 4 and changes nothing', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    await commitVersion(repo);
    await tagIn(repo, 'fraud@v1', 'baseline'); // arranged through the Node API (setup-api.ts)
    const again = runCli(repo, ['tag', 'fraud@v2', 'baseline', '--json']);
    expect(again.code).toBe(4);
    expect(again.error().code).toBe('TAG_EXISTS');
    const list = runCli(repo, ['tags', 'fraud', '--json']).json();
    expect(list.tags).toEqual([expect.objectContaining({ name: 'baseline', version: v1.id, number: 1, ref: 'fraud@v1' })]);
    const events = runCli(repo, ['history', 'fraud', '--json']).json() as { action: string }[];
    expect(events.filter((e) => e.action.startsWith('tag'))).toHaveLength(1);
  });

  it('commit --tag with a tag already on another version exits 4 and stores nothing (no manifest a rebuild would revive)', async () => {
    const repo = lifecycleRepo();
    writeFile(repo, 'm/a.bin', 'one');
    // The first, tagged version is arranged through the Node API (setup-api.ts).
    await commitIn(repo, 'x', ['m'], 'one', { tag: 't' });
    const manifests = () => readdirSync(join(repo, '.modelctl', 'manifests'), { recursive: true }).length;
    const before = manifests();
    writeFile(repo, 'm/a.bin', 'two');
    const refused = runCli(repo, ['commit', 'x', 'm', '-m', 'two', '--tag', 't', '--json']);
    expect(refused.code).toBe(4);
    expect(refused.error().code).toBe('TAG_EXISTS');
    expect(manifests()).toBe(before);
    expect(runCli(repo, ['verify', '--json']).json().problems).toEqual([]);
    expect(runCli(repo, ['verify', '--rebuild-index']).code).toBe(0);
    expect(runCli(repo, ['log', 'x', '--json']).json().versions).toHaveLength(1);
    // The same content again with its own tag is no conflict: the tag already names it.
    writeFile(repo, 'm/a.bin', 'one');
    expect(runCli(repo, ['commit', 'x', 'm', '-m', 'again', '--tag', 't']).code).toBe(0);
  });

  it('tagging the version the tag already names is a no-op without an event', async () => {
    const repo = lifecycleRepo();
    await commitVersion(repo);
    await tagIn(repo, 'fraud@v1', 'baseline'); // arranged through the Node API (setup-api.ts)
    const r = runCli(repo, ['tag', 'fraud@latest', 'baseline', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ action: 'none', changed: false, event: null });
  });

  it('--force moves the tag and records a tag-move event', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const v2 = await commitVersion(repo);
    await tagIn(repo, 'fraud@v1', 'baseline'); // arranged through the Node API (setup-api.ts)
    const r = runCli(repo, ['tag', 'fraud@v2', 'baseline', '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ action: 'tag-move', changed: true, previous: { id: v1.id }, version: { id: v2.id } });
    expect(r.json().event).toMatchObject({ action: 'tag-move', from: v1.id, to: v2.id, data: { tag: 'baseline', number: 2, fromNumber: 1 } });
    const events = runCli(repo, ['history', 'fraud', '--json']).json() as { action: string }[];
    expect(events.map((e) => e.action)).toEqual(['commit', 'commit', 'tag', 'tag-move']);
  });

  it('tag -d deletes with a tag-delete event; the tag no longer resolves', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    await tagIn(repo, 'fraud@v1', 'baseline'); // arranged through the Node API (setup-api.ts)
    const r = runCli(repo, ['tag', '-d', 'fraud@baseline', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ action: 'tag-delete', tag: 'baseline', version: { id: v1.id } });
    expect(r.json().event).toMatchObject({ action: 'tag-delete', from: v1.id, to: null });
    expect(runCli(repo, ['tags', 'fraud', '--json']).json().tags).toEqual([]);
    expect(runCli(repo, ['diff', 'fraud@baseline', 'fraud@v1', '--json']).code).toBe(3);
    expect(runCli(repo, ['tag', '-d', 'fraud@baseline', '--json']).code).toBe(3);
    expect(runCli(repo, ['tag', '-d', 'fraud@v1', '--json']).code).toBe(2);
    expect(runCli(repo, ['history', '--verify', '--json']).code).toBe(0);
  });

  it.each(['v3', 'latest', 'staging', 'production', '-x', 'a b', '.hidden'])('rejects the tag name %j with exit 2', async (name) => {
    const repo = lifecycleRepo();
    await commitVersion(repo);
    const r = runCli(repo, ['tag', 'fraud@v1', name, '--json']);
    expect(r.code).toBe(2);
  });

  it('a configured stage name cannot be a tag; unknown refs and models exit 3; a missing name exits 2', async () => {
    const repo = lifecycleRepo({ stages: ['canary', 'production'] });
    await commitVersion(repo);
    expect(runCli(repo, ['tag', 'fraud@v1', 'canary', '--json']).code).toBe(2);
    expect(runCli(repo, ['tag', 'fraud@v1', 'staging', '--json']).code).toBe(0);
    expect(runCli(repo, ['tag', 'fraud@v9', 'x', '--json']).code).toBe(3);
    expect(runCli(repo, ['tags', 'nope', '--json']).code).toBe(3);
    expect(runCli(repo, ['tag', 'fraud@v1', '--json']).code).toBe(2);
  });

  it('a new tag may not be a case variant of a version number, "latest" or a stage (V1, Latest, Canary): exit 2, nothing tagged', async () => {
    const repo = lifecycleRepo({ stages: ['canary', 'production'] });
    await commitVersion(repo);
    for (const [name, why] of [['V1', 'the version number v1'], ['Latest', '"latest"'], ['Canary', "the stage 'canary'"], ['PRODUCTION', "the stage 'production'"]] as const) {
      const r = runCli(repo, ['tag', 'fraud@v1', name, '--json']);
      expect(r.code, name).toBe(2);
      expect(r.error().message).toBe(`invalid tag name '${name}': it differs from ${why} only in case`);
    }
    writeFile(repo, 'model/extra.bin', 'x');
    expect(runCli(repo, ['commit', 'fraud', 'model', '--tag', 'V2', '--json']).code).toBe(2);
    expect(runCli(repo, ['tags', 'fraud', '--json']).json().tags).toEqual([]);
    // Names that merely contain such a word are fine.
    expect(runCli(repo, ['tag', 'fraud@v1', 'V1-candidate']).code).toBe(0);
  });
});
