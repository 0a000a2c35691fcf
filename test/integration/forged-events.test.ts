/**
 * Forged events (issue 10, item 7): an event written into a remote's events/ with a correct
 * content id must not pass as a stage move the remote made, and `history --verify --remote`
 * must report every way the remote's copies differ from the local ones.
 */
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildEvent, eventPayload } from '../../src/core/events.js';
import { keys } from '../../src/core/remote-layout.js';
import { rollback } from '../../src/api/rollback.js';
import { apiEnv, commitIn, fetchIn, promoteIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

function ok(repo: string, args: string[]) {
  const r = runCli(repo, args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/** `rollback m --stage staging --yes --reason <reason> [--push]`, in process (set-up only). */
async function rollbackIn(repo: string, reason: string, push = false): Promise<void> {
  await rollback({ cwd: repo, env: apiEnv(), model: 'm', stage: 'staging', reason, push, argv: ['rollback', 'm', '--stage', 'staging', '--yes', '--reason', reason, ...(push ? ['--push'] : [])] });
}

/** A: m@v1 and m@v2 pushed, staging on v1 (pushed). Arranged through the Node API (setup-api.ts). */
async function published(): Promise<{ a: string; remote: string; v1: string; v2: string }> {
  const a = tempRepo();
  const remote = tempDir();
  writeFile(a, 'w.bin', pseudoRandomBytes(50_000, 1));
  const v1 = await commitIn(a, 'm', ['w.bin'], 'v1');
  writeFile(a, 'w.bin', pseudoRandomBytes(50_000, 2));
  const v2 = await commitIn(a, 'm', ['w.bin'], 'v2');
  await remoteAddIn(a, 'origin', remote, { default: true });
  await pushIn(a);
  await promoteIn(a, 'm@v1', 'staging', { push: true });
  return { a, remote, v1, v2 };
}

/** Writes a well-formed promote event (right content id) into the remote, as someone with write access could. */
function forgePromote(remote: string, from: string, to: string): string {
  const e = buildEvent({ actor: 'ceo@corp', host: 'board-room', action: 'promote', model: 'm', version: to, from, to, reason: 'approved', argv: [], data: { stage: 'staging', number: 2, fromNumber: 1 } });
  writeFileSync(join(remote, ...keys.event('m', e.at, e.id).split('/')), eventPayload(e));
  return e.id;
}

function remoteEventFiles(remote: string): string[] {
  const dir = join(remote, 'models', 'm', 'events');
  return readdirSync(dir).map((f) => join(dir, f));
}

describe('forged and altered events', () => {
  it('a planted promote is never applied as a stage move, is flagged, and history --verify --remote names it', async () => {
    const { remote, v1, v2 } = await published();
    const forged = forgePromote(remote, v1, v2);
    const b = tempRepo();
    await remoteAddIn(b, 'origin', remote, { default: true });
    // The fetch that meets the planted event stays a CLI run: it is what this test checks.
    ok(b, ['fetch']);
    // The stage is where the stage document says, and its history does not contain the
    // planted move: there is nothing to roll back to.
    expect(ok(b, ['show', 'm@staging', '--json']).json().version.id).toBe(v1);
    expect(runCli(b, ['rollback', 'm', '--stage', 'staging', '--yes', '--reason', 'x']).code).toBe(3);

    // Locally: the chain holds, and the planted event is marked.
    const h = ok(b, ['history', '--verify', '--json']).json() as { id: string; unvouched?: boolean }[];
    expect(h.find((e) => e.id === forged)?.unvouched).toBe(true);
    expect(h.filter((e) => e.unvouched).map((e) => e.id)).toEqual([forged]);

    // Against the remote: exit 6, the difference named.
    const r = runCli(b, ['history', '--verify', '--remote', 'origin', '--json']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('AUDIT_REMOTE_MISMATCH');
    const diffs = (r.error() as unknown as { data: { differences: { kind: string; id: string }[] } }).data.differences;
    expect(diffs).toEqual([expect.objectContaining({ kind: 'stage-mismatch', id: forged })]);
  });

  it('a tampered copy of an event this clone holds, and a deleted one, are each reported', async () => {
    const { a, remote } = await published();
    const clean = ok(a, ['history', '--verify', '--remote', 'origin', '--json']);
    expect(clean.code).toBe(0);
    const files = remoteEventFiles(remote);
    expect(files.length).toBeGreaterThanOrEqual(3);
    // Tamper: same key, another actor (the content no longer hashes to the id in the name).
    const tampered = files[0];
    const doc = JSON.parse(readFileSync(tampered, 'utf8'));
    writeFileSync(tampered, JSON.stringify({ ...doc, actor: 'ceo@corp' }));
    // Delete another.
    unlinkSync(files[1]);
    const r = runCli(a, ['history', '--verify', '--remote', 'origin', '--json']);
    expect(r.code).toBe(6);
    const diffs = (r.error() as unknown as { data: { differences: { kind: string; id: string }[] } }).data.differences;
    const kinds = diffs.map((d) => d.kind).sort();
    expect(kinds).toContain('altered-on-remote');
    expect(kinds).toContain('missing-on-remote');
    const ids = (f: string) => /([0-9a-f]{64})\.json$/.exec(f)![1];
    expect(diffs.find((d) => d.kind === 'altered-on-remote')!.id).toBe(ids(tampered));
    expect(diffs.some((d) => d.kind === 'missing-on-remote' && d.id === ids(files[1]))).toBe(true);
  });

  it('events only on the remote are listed but are not an error; --remote alone lists the remote\'s events and stores none', async () => {
    const { remote } = await published();
    const b = tempRepo();
    await remoteAddIn(b, 'origin', remote, { default: true });
    const r = ok(b, ['history', '--verify', '--remote', 'origin']);
    expect(r.stdout).toContain('only-on-remote');
    const onRemote = readdirSync(join(remote, 'models', 'm', 'events')).length;
    const listed = ok(b, ['history', '--remote', 'origin', '--json']).json() as unknown as { id: string }[];
    expect(onRemote).toBeGreaterThan(0);
    expect(listed.length).toBe(onRemote);
    expect((ok(b, ['history', '--json']).json() as unknown as unknown[]).length).toBe(0);
  });

  it('a stage moved away and back locally is pushed with its document naming the last move, so every clone vouches for both events', async () => {
    const { a, remote, v1 } = await published();
    await promoteIn(a, 'm@v2', 'staging');
    await rollbackIn(a, 'back');
    // staging is v1 again, as the remote's document says: the two moves still go out, and
    // the document must name the rollback, or no chain reaches the promote to v2.
    ok(a, ['push']);
    const doc = JSON.parse(readFileSync(join(remote, ...keys.stage('m', 'staging').split('/')), 'utf8'));
    const moves = (ok(a, ['history', '--json']).json() as unknown as { id: string; action: string }[]).filter((e) => e.action === 'rollback');
    expect(doc.version).toBe(v1);
    expect(doc.event).toBe(moves[moves.length - 1].id);

    const b = tempRepo();
    await remoteAddIn(b, 'origin', remote, { default: true });
    ok(b, ['fetch']); // the clone's fetch of the pushed moves is checked: a CLI run
    const h = ok(b, ['history', '--verify', '--json']).json() as { id: string; unvouched?: boolean }[];
    expect(h.filter((e) => e.unvouched)).toEqual([]);
    expect(ok(b, ['history', '--verify', '--remote', 'origin']).code).toBe(0);
    expect(ok(b, ['show', 'm@staging', '--json']).json().version.id).toBe(v1);
  });

  it('a stage a teammate moved away and back with --push between two fetches is recorded move by move: neither event is unvouched', async () => {
    const { a, remote, v1, v2 } = await published();
    const b = tempRepo();
    await remoteAddIn(b, 'origin', remote, { default: true });
    await fetchIn(b);
    await promoteIn(a, 'm@v2', 'staging', { push: true });
    await rollbackIn(a, 'back', true);
    // b saw staging on v1 and sees it on v1 again; the document names the rollback.
    ok(b, ['fetch']); // the fetch under test: a CLI run
    const h = ok(b, ['history', '--verify', '--json']).json() as { id: string; action: string; unvouched?: boolean }[];
    expect(h.filter((e) => e.action === 'promote' || e.action === 'rollback')).toHaveLength(3);
    expect(h.filter((e) => e.unvouched)).toEqual([]);
    expect(ok(b, ['history', 'm']).stdout).not.toContain('warning');
    expect(ok(b, ['history', '--verify', '--remote', 'origin']).code).toBe(0);
    expect(ok(b, ['show', 'm@staging', '--json']).json().version.id).toBe(v1);
    // b's stage history is a's: rolling back here does what it does there.
    const back = ['rollback', 'm', '--stage', 'staging', '--yes', '--reason', 'again', '--json'];
    const [here, there] = [runCli(b, back), runCli(a, back)];
    expect([here.code, here.stdout]).toEqual([there.code, there.stdout]);
  });
});
