/**
 * A tag or stage never names a version removed on the remote (README, "Deleting on a shared
 * remote"; docs/design.md §16). Each case failed before: `rollback --push`, `promote --push`,
 * `tag --push` and a plain push all published a stage or tag naming a tombstoned version
 * (exit 0), so every `pull m@staging` then failed; an rm and a promotion racing could both
 * exit 0 with the same result; and `gc --remote --dry-run` reported deleting the objects of
 * a removed version a stage still named, which the real gc keeps.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { remove } from '../../src/api/remove.js';
import { rollback } from '../../src/api/rollback.js';
import { apiEnv, tagIn } from '../helpers/setup-api.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { runCli, refDoc, tombstone, team } from '../helpers/removed-targets.js';

/** `rm <ref> --remote origin --reason <reason>` in process (set-up only; rm is not in src/index.ts). */
async function rmIn(repo: string, ref: string, reason: string): Promise<void> {
  await remove({ cwd: repo, env: apiEnv(), ref, remote: 'origin', reason, argv: ['rm', ref, '--remote', 'origin', '--reason', reason] });
}

/** The error names the ref, the removed version, who removed it and why. */
function expectRemoved(r: { code: number; error(): { code: string; message: string; data: unknown } }, name: string, remote: string) {
  expect(r.code).toBe(3);
  expect(r.error().code).toBe('VERSION_REMOVED_ON_REMOTE');
  const gone = tombstone(remote, 1);
  expect(r.error().message).toContain(name);
  expect(r.error().message).toContain('v1');
  expect(r.error().message).toContain(gone.actor);
  expect(r.error().message).toContain(gone.reason);
}

describe('a stage or tag is never published naming a version removed on the remote', () => {
  it('rollback, promote and tag with --push, and a plain push, refuse it (exit 3) and change nothing there', async () => {
    const { t, a, b, ids } = await team();
    await rmIn(a, 'm@v1', 'old');
    const f = await runCli(b, ['fetch']);
    expect(f.code).toBe(0);
    expect(f.stdout).toContain('v1 was removed');

    const rb = await runCli(b, ['rollback', 'm', '--stage', 'staging', '--push', '--reason', 'back', '--json']);
    expectRemoved(rb, 'staging', t.url);
    expect(refDoc(t.url, 'stages', 'staging')?.version).toBe(ids[2]);
    expect((await runCli(b, ['show', 'm@staging', '--json'])).json().version.id).toBe(ids[2]);

    expectRemoved(await runCli(b, ['promote', 'm@v1', '--to', 'staging', '--push', '--json']), 'staging', t.url);
    expectRemoved(await runCli(b, ['tag', 'm@v1', 'old', '--push', '--json']), "tag 'old'", t.url);
    expect(refDoc(t.url, 'tags', 'old')).toBeNull();
    expect((await runCli(b, ['show', 'm@old'])).code).toBe(3);

    // Moved here only, then pushed: the refs wait with their events, everything else goes.
    // (The local moves are arranged in process; the push under test runs through the CLI.)
    await rollback({ cwd: b, env: apiEnv(), model: 'm', stage: 'staging', reason: 'back', argv: ['rollback', 'm', '--stage', 'staging', '--reason', 'back'] });
    await tagIn(b, 'm@v1', 'old');
    await tagIn(b, 'm@v2', 'fine');
    const p = await runCli(b, ['push', '--json']);
    expectRemoved(p, 'stage m@staging', t.url);
    const result = (p.error().data as { result: { tags: { tag: string; status: string }[]; stages: { stage: string; status: string }[] } }).result;
    expect(result.stages).toContainEqual(expect.objectContaining({ stage: 'staging', status: 'removed' }));
    expect(result.tags).toContainEqual(expect.objectContaining({ tag: 'old', status: 'removed' }));
    expect(result.tags).toContainEqual(expect.objectContaining({ tag: 'fine', status: 'created' }));
    expect(refDoc(t.url, 'stages', 'staging')?.version).toBe(ids[2]);
    expect(refDoc(t.url, 'tags', 'old')).toBeNull();
    expect(refDoc(t.url, 'tags', 'fine')?.version).toBe(ids[1]);
    // CI's pull of the stage still works.
    expect((await runCli(tempRepo(), ['pull', 'm@staging', '--remote', t.url])).code).toBe(0);
  });

  it('gc --remote --dry-run reports what the real gc deletes when a stage names a removed version', async () => {
    const { t, a, ids } = await team();
    await rmIn(a, 'm@v2', 'old');
    // A stage put on it by a modelctl from before this check.
    mkdirSync(join(t.url, 'models/m/stages'), { recursive: true });
    writeFileSync(join(t.url, 'models/m/stages/production.json'), JSON.stringify({ version: ids[1], previous: null, event: null, actor: 'old@example.com', at: new Date().toISOString() }));
    const dry = await runCli(a, ['gc', '--remote', 'origin', '--grace', '0s', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const real = await runCli(a, ['gc', '--remote', 'origin', '--grace', '0s', '--yes', '--json']);
    expect(real.code, real.stderr).toBe(0);
    expect(dry.json().deleted).toEqual(real.json().deleted);
    expect(real.json().deleted.chunks.count).toBe(0);
  });
});
