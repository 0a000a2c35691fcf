import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/api/init.js';
import { run } from '../../src/api/run.js';
import { apiEnv, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { runCli, tempDir } from '../helpers/temp-repo.js';
import { editSettings, git, mc, trainingRepo } from './repro-helpers.js';

/**
 * modelctl.lock (docs/design.md §14) across git commits, branches and clones: which commands
 * write it, `git checkout <sha> && modelctl checkout`, status against the lock, fetching
 * locked versions from the default remote, versions nobody has, and git merge conflicts.
 */

const lockOf = (root: string) => JSON.parse(readFileSync(join(root, 'modelctl.lock'), 'utf8'));
const digestsOf = (root: string, ref: string): Record<string, string> =>
  Object.fromEntries(mc(root, 'show', ref).json().files.map((f: { path: string; digest: string }) => [f.path, f.digest]));
const workspaceBytes = (root: string) => readFileSync(join(root, 'model/weights.bin')).toString('hex');

function train(root: string, seed: string): void {
  const r = mc(root, 'run', '--', 'node', 'train.js', '--seed', seed);
  expect(r.code, r.stderr).toBe(0);
}

/**
 * `modelctl run --json -- node train.js --seed <seed>` as a set-up step, through the Node API
 * (setup-api.ts style; it throws when the run fails). For tests that arrange versions, not
 * for those that check what run does to the lock.
 */
async function trainIn(root: string, seed: string): Promise<void> {
  const command = ['node', 'train.js', '--seed', seed];
  await run({ cwd: root, env: apiEnv(), command, argv: ['run', '--json', '--', ...command], stdout: 'ignore' });
}

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
