/**
 * A tag or stage never names a version removed on the remote (README, "Deleting on a shared
 * remote"; docs/design.md §16). Each case failed before: `rollback --push`, `promote --push`,
 * `tag --push` and a plain push all published a stage or tag naming a tombstoned version
 * (exit 0), so every `pull m@staging` then failed; an rm and a promotion racing could both
 * exit 0 with the same result; and `gc --remote --dry-run` reported deleting the objects of
 * a removed version a stage still named, which the real gc keeps.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { remove } from '../../src/api/remove.js';
import { rollback } from '../../src/api/rollback.js';
import { Barriers } from '../helpers/barriers.js';
import { apiEnv, commitIn, fetchIn, promoteIn, pushIn, remoteAddIn, tagIn } from '../helpers/setup-api.js';
import { runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { bytes, type RemoteTarget } from './remote-gc-helpers.js';

function directoryTarget(): RemoteTarget {
  return { url: join(tempDir('modelctl-remote-'), 'r'), env: {}, addArgs: [] };
}

function runCli(cwd: string, args: string[], env: Record<string, string> = {}) {
  return runCliAsync(cwd, args, { env, timeoutMs: 120_000 });
}

const refDoc = (remote: string, kind: 'stages' | 'tags', name: string) => {
  const p = join(remote, 'models/m', kind, `${name}.json`);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string }) : null;
};
const tombstone = (remote: string, n: number) => JSON.parse(readFileSync(join(remote, 'models/m/removed', `${n}.json`), 'utf8')) as { actor: string; reason: string };


/** `rm <ref> --remote origin --reason <reason>` in process (set-up only; rm is not in src/index.ts). */
async function rmIn(repo: string, ref: string, reason: string): Promise<void> {
  await remove({ cwd: repo, env: apiEnv(), ref, remote: 'origin', reason, argv: ['rm', ref, '--remote', 'origin', '--reason', reason] });
}

/** Clone a: m@v1..v3 pushed, staging on v1. Clone b fetched, then moved staging to v3 with --push. Returns the ids (v1..v3). */
async function team() {
  const t = directoryTarget();
  const a = tempRepo();
  // Arranged through the Node API (setup-api.ts); what each test checks runs through the CLI.
  await remoteAddIn(a, 'origin', t.url, { default: true });
  const ids: string[] = [];
  for (const i of [1, 2, 3]) {
    writeFile(a, 'w.bin', bytes(50_000, 70 + i));
    ids.push(await commitIn(a, 'm', ['w.bin'], 'x'));
  }
  await promoteIn(a, 'm@v1', 'staging');
  await pushIn(a);
  const b = tempRepo();
  await remoteAddIn(b, 'origin', t.url, { default: true });
  await fetchIn(b);
  await promoteIn(b, 'm@v3', 'staging', { push: true });
  return { t, a, b, ids };
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
