import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/api/init.js';
import { pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { runCli, tempDir } from '../helpers/temp-repo.js';
import { editSettings, git, mc, trainingRepo } from './repro-helpers.js';
import { lockOf, workspaceBytes, trainIn } from '../helpers/lock.js';

/**
 * modelctl.lock (docs/design.md §14) across git commits, branches and clones: which commands
 * write it, `git checkout <sha> && modelctl checkout`, status against the lock, fetching
 * locked versions from the default remote, versions nobody has, and git merge conflicts.
 */

describe('modelctl.lock', () => {

  it('a fresh clone restores the locked versions from the default remote; a version nobody has is exit 3 naming it and the remotes searched', async () => {
    const root = trainingRepo({ lock: true });
    const registry = tempDir('modelctl-registry-');
    // root's versions, remote and pushes are arranged through the Node API (setup-api.ts); the clones' commands run through the CLI.
    await remoteAddIn(root, 'origin', registry, { default: true });
    await trainIn(root, '1');
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'model v1, registry');
    const v1Bytes = workspaceBytes(root);

    const clone = join(tempDir('modelctl-clone-'), 'c');
    git(root, 'clone', '-q', root, clone);
    init({ cwd: clone });
    // Not pushed yet: the remote is searched and lacks it.
    const missingThere = mc(clone, 'checkout');
    expect(missingThere.code).toBe(3);
    const err = JSON.parse(missingThere.stderr.trim().split('\n').pop() as string).error;
    expect(err.code).toBe('LOCKED_VERSION_MISSING');
    expect(err.data.versions).toEqual([lockOf(root).models.tiny.version]);
    expect(err.data.remotes).toHaveLength(1);
    expect(err.message).toContain(lockOf(root).models.tiny.version.slice(0, 12));

    await pushIn(root);
    const fetched = mc(clone, 'checkout');
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.json().fetched.versions).toEqual([lockOf(root).models.tiny.version]);
    expect(readFileSync(join(clone, 'model/weights.bin')).toString('hex')).toBe(v1Bytes);
    expect(mc(clone, 'status').json().lock.clean).toBe(true);

    // pull --lock moves the clone's lock (a pull into --out never does).
    await trainIn(root, '2');
    await pushIn(root);
    expect(mc(clone, 'pull', 'tiny@v2', '--lock').json().lock).toMatchObject({ changed: true, models: [{ number: 2 }] });
    expect(lockOf(clone).models.tiny.number).toBe(2);
    expect(mc(clone, 'pull', 'tiny@v1', '--out', join(clone, 'deploy'), '--lock').json().lock).toBeNull();
    expect(lockOf(clone).models.tiny.number).toBe(2);
    // promote --push --lock: the stage moves here and on the remote, and the lock follows.
    const promoted = mc(clone, 'promote', 'tiny@v1', '--to', 'staging', '--push', '--lock');
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(lockOf(clone).models.tiny.number).toBe(1);

    // A version made after the last push: the registry is searched and lacks it.
    git(clone, 'checkout', '-q', '--', 'modelctl.lock');
    await trainIn(root, '3');
    git(root, 'commit', '-q', '-am', 'model v3, not pushed');
    git(clone, 'pull', '-q', '--ff-only');
    const notPushed = mc(clone, 'checkout');
    expect(notPushed.code).toBe(3);
    const np = JSON.parse(notPushed.stderr.trim().split('\n').pop() as string).error;
    expect(np.code).toBe('LOCKED_VERSION_MISSING');
    expect(np.data.versions).toEqual([lockOf(root).models.tiny.version]);
    expect(np.data.remotes).toHaveLength(1);

    // With no remote at all, the error says none was searched.
    const lonely = join(tempDir('modelctl-clone-'), 'l');
    git(root, 'clone', '-q', root, lonely);
    editSettings(lonely, (s) => {
      delete s.remotes;
      delete s.default_remote;
    });
    init({ cwd: lonely });
    const none = mc(lonely, 'checkout');
    expect(none.code).toBe(3);
    expect(JSON.parse(none.stderr.trim().split('\n').pop() as string).error.data.remotes).toEqual([]);

    // The right files, copied in by hand, of a version this clone has no record of: status
    // says they match, and that the version is not here (not "matches every locked model").
    cpSync(join(root, 'model'), join(lonely, 'model'), { recursive: true });
    const st = runCli(lonely, ['status']);
    expect(st.stdout).toContain(`the workspace matches the files locked as tiny@v3 (${lockOf(root).models.tiny.version.slice(0, 12)}), a version not in this repository: \`modelctl fetch\``);
    expect(st.stdout).not.toMatch(/matches every locked model/);
  });

  it('detects a git merge conflict in the lock, explains it, and checkout <ref> --lock resolves it', async () => {
    const root = trainingRepo({ lock: true });
    // The versions (and the locks each branch gets) are arranged through the Node API (setup-api.ts style).
    await trainIn(root, '1');
    git(root, 'add', 'modelctl.lock');
    git(root, 'commit', '-q', '-m', 'model v1');
    git(root, 'checkout', '-q', '-b', 'a');
    await trainIn(root, '2');
    git(root, 'commit', '-q', '-am', 'model v2 on a');
    git(root, 'checkout', '-q', 'main');
    await trainIn(root, '3');
    git(root, 'commit', '-q', '-am', 'model v3 on main');
    expect(() => git(root, 'merge', '-q', 'a')).toThrow(/conflict|failed/i);
    expect(readFileSync(join(root, 'modelctl.lock'), 'utf8')).toMatch(/^<{7} /m);

    const st = mc(root, 'status');
    expect(st.code, st.stderr).toBe(0);
    expect(st.json().lock.clean).toBe(false);
    expect(st.json().lock.conflicts).toEqual([{ model: 'tiny', ours: 3, theirs: 2 }]);

    const refused = mc(root, 'checkout');
    expect(refused.code).toBe(4);
    const err = JSON.parse(refused.stderr.trim().split('\n').pop() as string).error;
    expect(err.code).toBe('LOCK_CONFLICT');
    expect(err.data.conflicts).toEqual([expect.objectContaining({ model: 'tiny', ours: expect.objectContaining({ number: 3 }), theirs: expect.objectContaining({ number: 2 }) })]);

    const chosen = mc(root, 'checkout', 'tiny@v2', '--lock');
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(chosen.json().lock.conflicts).toEqual([]);
    expect(readFileSync(join(root, 'modelctl.lock'), 'utf8')).not.toMatch(/^[<=>]{7}/m);
    expect(lockOf(root).models.tiny.number).toBe(2);
    git(root, 'add', 'modelctl.lock');
    git(root, 'commit', '-q', '--no-edit');
    expect(mc(root, 'status').json().lock.clean).toBe(true);
  });

  it('an unreadable lock refuses commit, run, promote and checkout (exit 2) before they change anything', async () => {
    const root = trainingRepo({ lock: true });
    // Arranged through the Node API; the refused commands run through the CLI.
    await trainIn(root, '1');
    await trainIn(root, '2');
    const before = workspaceBytes(root);
    writeFileSync(join(root, 'modelctl.lock'), '{"format": 1,');
    for (const args of [['run', '--', 'node', 'train.js', '--seed', '3'], ['commit', 'tiny', '-m', 'x', '--param', 'seed=9'], ['promote', 'tiny@v1', '--to', 'staging'], ['checkout', 'tiny@v1']]) {
      const r = mc(root, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.error().code).toBe('INVALID_LOCK');
    }
    expect(mc(root, 'log', 'tiny').json().versions).toHaveLength(2);
    expect(mc(root, 'show', 'tiny@staging').code).toBe(3);
    expect(workspaceBytes(root)).toBe(before);
    // A checkout into --out never writes the lock, so it is not refused.
    expect(mc(root, 'checkout', 'tiny@v1', '--out', 'served').code).toBe(0);
  });
});
