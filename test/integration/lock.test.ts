import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editSettings, git, mc, trainingRepo } from './repro-helpers.js';
import { lockOf, workspaceBytes, train, trainIn } from '../helpers/lock.js';

/**
 * modelctl.lock (docs/design.md §14) across git commits, branches and clones: which commands
 * write it, `git checkout <sha> && modelctl checkout`, status against the lock, fetching
 * locked versions from the default remote, versions nobody has, and git merge conflicts.
 */

const digestsOf = (root: string, ref: string): Record<string, string> =>
  Object.fromEntries(mc(root, 'show', ref).json().files.map((f: { path: string; digest: string }) => [f.path, f.digest]));

describe('modelctl.lock', () => {
  it('follows git: each commit and branch restores the models it locked, and status says when the workspace differs', () => {
    const root = trainingRepo({ lock: true });
    train(root, '1');
    const v1 = mc(root, 'show', 'tiny@v1').json().version.id;
    expect(lockOf(root).models.tiny).toEqual({ version: v1, number: 1, files: digestsOf(root, 'tiny@v1') });
    const v1Bytes = workspaceBytes(root);
    git(root, 'add', 'modelctl.lock');
    git(root, 'commit', '-q', '-m', 'model v1');
    const shaV1 = git(root, 'rev-parse', 'HEAD');

    git(root, 'checkout', '-q', '-b', 'experiment');
    writeFileSync(join(root, 'params.json'), `${JSON.stringify({ lr: 0.02, epochs: 60 })}\n`);
    git(root, 'commit', '-q', '-am', 'slower learning rate');
    train(root, '1');
    expect(lockOf(root).models.tiny.number).toBe(2);
    const v2Bytes = workspaceBytes(root);
    expect(v2Bytes).not.toBe(v1Bytes);
    git(root, 'commit', '-q', '-am', 'model v2');

    // Back on main the lock names v1 while the workspace still holds v2's files.
    git(root, 'checkout', '-q', 'main');
    const st = mc(root, 'status').json();
    expect(st.lock.clean).toBe(false);
    expect(st.lock.models[0]).toMatchObject({ model: 'tiny', number: 1, matches: false, known: true });
    expect(st.lock.models[0].modified).toContain('model/weights.bin');

    const restored = mc(root, 'checkout');
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.json().models.map((m: { version: { id: string } }) => m.version.id)).toEqual([v1]);
    expect(workspaceBytes(root)).toBe(v1Bytes);
    expect(mc(root, 'status').json().lock.clean).toBe(true);

    git(root, 'checkout', '-q', 'experiment');
    expect(mc(root, 'checkout').code).toBe(0);
    expect(workspaceBytes(root)).toBe(v2Bytes);

    git(root, 'checkout', '-q', shaV1);
    expect(mc(root, 'checkout').code).toBe(0);
    expect(workspaceBytes(root)).toBe(v1Bytes);
  });

  it('commit, checkout and promote update it with --lock (or lock: true); checkout --out and plain runs leave it alone', () => {
    const root = trainingRepo();
    train(root, '1');
    train(root, '2');
    expect(() => lockOf(root)).toThrow(); // no lock without --lock or the setting
    expect(mc(root, 'checkout', 'tiny@v1', '--lock').code).toBe(0);
    expect(lockOf(root).models.tiny.number).toBe(1);
    expect(mc(root, 'checkout', 'tiny@v2', '--out', join(root, 'serve'), '--lock').code).toBe(0);
    expect(lockOf(root).models.tiny.number).toBe(1);
    expect(mc(root, 'promote', 'tiny@v2', '--to', 'staging', '--lock').code).toBe(0);
    expect(lockOf(root).models.tiny.number).toBe(2);
    const r = mc(root, 'run', '--lock', '--', 'node', 'train.js', '--seed', '3');
    expect(r.json().lock).toMatchObject({ changed: true, models: [{ model: 'tiny', number: 3 }] });
    expect(lockOf(root).models.tiny.number).toBe(3);

    editSettings(root, (s) => void (s.lock = true));
    writeFileSync(join(root, 'model/extra.txt'), 'an extra file');
    const c = mc(root, 'commit', 'tiny', '-m', 'with an extra file');
    expect(c.code, c.stderr).toBe(0);
    expect(lockOf(root).models.tiny).toMatchObject({ number: 4, files: digestsOf(root, 'tiny@v4') });
  });

  it('refuses a lock whose digests are not those of the version it names (exit 6) and an unreadable one (exit 2)', async () => {
    const root = trainingRepo({ lock: true });
    await trainIn(root, '1'); // arranged through the Node API
    const lock = lockOf(root);
    lock.models.tiny.files['model/weights.bin'] = 'f'.repeat(64);
    writeFileSync(join(root, 'modelctl.lock'), JSON.stringify(lock));
    const mismatch = mc(root, 'checkout');
    expect(mismatch.code).toBe(6);
    expect(mismatch.error().code).toBe('LOCK_MISMATCH');
    writeFileSync(join(root, 'modelctl.lock'), '{"format": 1, "models": ');
    const junk = mc(root, 'checkout');
    expect(junk.code).toBe(2);
    expect(junk.error().code).toBe('INVALID_LOCK');
    expect(mc(root, 'status').code).toBe(2);
  });
});
