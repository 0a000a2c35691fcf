/**
 * A tag or stage never names a version removed on the remote (README, "Deleting on a shared
 * remote"; docs/design.md §16). Each case failed before: `rollback --push`, `promote --push`,
 * `tag --push` and a plain push all published a stage or tag naming a tombstoned version
 * (exit 0), so every `pull m@staging` then failed; an rm and a promotion racing could both
 * exit 0 with the same result; and `gc --remote --dry-run` reported deleting the objects of
 * a removed version a stage still named, which the real gc keeps.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { runCli, refDoc, team } from '../helpers/removed-targets.js';

describe('a stage or tag is never published naming a version removed on the remote', () => {

  it('rm racing a promotion: a stage moved onto the version after rm looked makes rm take its tombstone back (exit 5)', async () => {
    const { t, a, b, ids } = await team();
    const barriers = new Barriers();
    barriers.arm('rm-checked');
    const rm = runCli(a, ['rm', 'm@v2', '--remote', 'origin', '--reason', 'race', '--json'], barriers.env);
    await barriers.reached('rm-checked');
    expect((await runCli(b, ['promote', 'm@v2', '--to', 'production', '--push', '--yes'])).code).toBe(0);
    barriers.release('rm-checked');
    const r = await rm;
    expect(r.code, r.stderr).toBe(5);
    expect(r.error().code).toBe('VERSION_HOLDS_STAGE');
    expect(r.error().message).toContain('while this command ran');
    expect(existsSync(join(t.url, 'models/m/removed/2.json'))).toBe(false);
    expect(refDoc(t.url, 'stages', 'production')?.version).toBe(ids[1]);
    expect((await runCli(tempRepo(), ['pull', 'm@production', '--remote', t.url])).code).toBe(0);
    const h = (await runCli(tempRepo(), ['history', 'm', '--remote', t.url, '--json'])).json() as { action: string }[];
    expect(h.filter((e) => e.action === 'remove')).toEqual([]);
  });

  it('a promotion racing rm: a tombstone written after the promotion looked makes it take its stage back (exit 3)', async () => {
    const { t, a, b, ids } = await team();
    const barriers = new Barriers();
    barriers.arm('push-claimed');
    const promote = runCli(b, ['promote', 'm@v2', '--to', 'production', '--push', '--yes', '--json'], barriers.env);
    await barriers.reached('push-claimed');
    expect((await runCli(a, ['rm', 'm@v2', '--remote', 'origin', '--reason', 'race'])).code).toBe(0);
    barriers.release('push-claimed');
    const p = await promote;
    expect(p.code, p.stderr).toBe(3);
    expect(p.error().code).toBe('VERSION_REMOVED_ON_REMOTE');
    expect(refDoc(t.url, 'stages', 'production')).toBeNull();
    expect((await runCli(b, ['show', 'm@production'])).code).toBe(3);
    expect(ids).toHaveLength(3);
  });
});
