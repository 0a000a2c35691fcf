/**
 * A lost WAL (issue 10, item 2): index.db restored from a copy taken after v1, without its
 * -wal, while the store holds v2–v4. Nothing acknowledged may be lost: verify says the index
 * is behind (exit 6), gc and every write refuse, and `verify --rebuild-index` restores the
 * versions with their numbers, tags, stages, archived marks and events from the journal.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

const GC_NOW = { MODELCTL_GC_GRACE_SECONDS: '0' };

function ok(repo: string, args: string[]) {
  const r = runCli(repo, args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

describe('index.db restored without its WAL', () => {
  it('verify reports the loss, gc and writes refuse, and --rebuild-index restores versions, refs and events', () => {
    const repo = tempRepo();
    const meta = join(repo, '.modelctl');
    const contents = [1, 2, 3, 4].map((i) => pseudoRandomBytes(200_000 + i * 1000, i));
    writeFile(repo, 'model/w.bin', contents[0]);
    ok(repo, ['commit', 'm', 'model/', '-m', 'v1']);
    // A copy of the index as it was after v1 (every connection closed: no WAL to copy).
    copyFileSync(join(meta, 'index.db'), join(repo, 'snapshot.db'));
    for (const i of [1, 2, 3]) {
      writeFile(repo, 'model/w.bin', contents[i]);
      ok(repo, ['commit', 'm', 'model/', '-m', `v${i + 1}`]);
    }
    ok(repo, ['tag', 'm@v3', 'good']);
    ok(repo, ['promote', 'm@v3', '--to', 'staging']);
    ok(repo, ['promote', 'm@v4', '--to', 'staging']);
    ok(repo, ['archive', 'm@v2']);
    const before = ok(repo, ['log', 'm', '--json']).json().versions.map((v: { id: string; number: number }) => ({ id: v.id, number: v.number }));
    const eventsBefore = ok(repo, ['history', '--json']).json().map((e: { id: string }) => e.id);
    expect(before).toHaveLength(4);

    // The loss: the old copy comes back, and its WAL is gone.
    copyFileSync(join(repo, 'snapshot.db'), join(meta, 'index.db'));
    rmSync(join(meta, 'index.db-wal'), { force: true });
    rmSync(join(meta, 'index.db-shm'), { force: true });
    expect(ok(repo, ['log', 'm', '--json']).json().versions).toHaveLength(1);

    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    const kinds = v.json().problems.map((p: { kind: string }) => p.kind);
    expect(kinds).toContain('index-behind');
    expect(kinds.filter((k: string) => k === 'unindexed-version')).toHaveLength(3);

    // gc must not collect v2–v4's objects, and no write may build on the stale index.
    const g = runCli(repo, ['gc', '--json'], { env: GC_NOW });
    expect(g.code).toBe(6);
    expect(g.error().code).toBe('INDEX_BEHIND');
    writeFile(repo, 'model/w.bin', pseudoRandomBytes(1000, 77));
    const c = runCli(repo, ['commit', 'm', 'model/', '--json']);
    expect(c.code).toBe(6);
    expect(c.error().code).toBe('INDEX_BEHIND');

    const rebuilt = ok(repo, ['verify', '--rebuild-index', '--json']).json();
    expect(rebuilt.restoredFrom).toBe('journal');
    expect(rebuilt.unprovable).toEqual({ events: [], refs: [] });
    ok(repo, ['verify']);
    ok(repo, ['history', '--verify']);
    const after = ok(repo, ['log', 'm', '--json']).json().versions;
    expect(after.map((x: { id: string; number: number }) => ({ id: x.id, number: x.number }))).toEqual(before);
    expect(after.find((x: { number: number }) => x.number === 3).tags).toEqual(['good']);
    expect(after.find((x: { number: number }) => x.number === 4).stages).toEqual(['staging']);
    expect(after.find((x: { number: number }) => x.number === 2).archived).toBe(true);
    expect(ok(repo, ['history', '--json']).json().map((e: { id: string }) => e.id)).toEqual(eventsBefore);
    // Rollback walks the restored stage history.
    ok(repo, ['rollback', 'm', '--stage', 'staging']);
    expect(ok(repo, ['show', 'm@staging', '--json']).json().version.number).toBe(3);

    // Every version checks out byte-identical, and gc keeps what they need.
    const needed = new Set(after.flatMap((x: { ref: string }) => ok(repo, ['show', x.ref, '--json']).json().files.map((f: { digest: string }) => f.digest)));
    const collected = runCli(repo, ['gc', '--json'], { env: GC_NOW }).json().deleted.map((d: { digest: string }) => d.digest);
    // Only the refused commit's leftover may go (its object was stored before the refusal).
    expect(collected.filter((d: string) => needed.has(d))).toEqual([]);
    for (const [i, bytes] of contents.entries()) {
      const out = tempDir();
      ok(repo, ['checkout', `m@v${i + 1}`, '--out', out]);
      expect(readFileSync(join(out, 'model', 'w.bin')).equals(bytes)).toBe(true);
    }
  });

  it('a journal line torn by a crash is skipped and the rest restores', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', pseudoRandomBytes(50_000, 5));
    ok(repo, ['commit', 'm', 'w.bin']);
    ok(repo, ['tag', 'm@v1', 'one']);
    const journal = join(repo, '.modelctl', 'journal.jsonl');
    writeFileSync(journal, readFileSync(journal, 'utf8') + '{"n":999,"r":{"k":"tag","model":"m","na');
    rmSync(join(repo, '.modelctl', 'index.db'));
    const rebuilt = ok(repo, ['verify', '--rebuild-index', '--json']).json();
    expect(rebuilt.restoredFrom).toBe('journal');
    expect(ok(repo, ['tags', 'm', '--json']).json().tags.map((t: { name: string }) => t.name)).toEqual(['one']);
    ok(repo, ['history', '--verify']);
    // The rebuilt index writes on: its journal is fresh and consistent.
    ok(repo, ['tag', 'm@v1', 'two']);
    ok(repo, ['verify']);
  });

  it('an event edited in the journal is not restored (its content no longer hashes to its id)', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', pseudoRandomBytes(50_000, 6));
    ok(repo, ['commit', 'm', 'w.bin']);
    ok(repo, ['promote', 'm@v1', '--to', 'staging']);
    const journal = join(repo, '.modelctl', 'journal.jsonl');
    writeFileSync(journal, readFileSync(journal, 'utf8').replace(/\\"action\\":\\"promote\\",\\"actor\\":\\"[^\\]*\\"/, '\\"action\\":\\"promote\\",\\"actor\\":\\"ceo@corp\\"'));
    rmSync(join(repo, '.modelctl', 'index.db'));
    const rebuilt = ok(repo, ['verify', '--rebuild-index', '--json']).json();
    expect(rebuilt.unprovable.events).toHaveLength(1);
    const actors = ok(repo, ['history', '--json']).json().map((e: { actor: string }) => e.actor);
    expect(actors).not.toContain('ceo@corp');
  });

  it('what each remote holds (versions, events) survives too: after the rebuild push has nothing to publish', () => {
    const repo = tempRepo();
    const remote = tempDir();
    writeFile(repo, 'w.bin', pseudoRandomBytes(60_000, 8));
    ok(repo, ['commit', 'm', 'w.bin']);
    ok(repo, ['tag', 'm@v1', 'shipped']);
    ok(repo, ['remote', 'add', 'origin', remote, '--default']);
    ok(repo, ['push']);
    rmSync(join(repo, '.modelctl', 'index.db'));
    ok(repo, ['verify', '--rebuild-index']);
    const again = ok(repo, ['push', '--json']).json();
    expect(again.events).toBe(0);
    expect(again.versions.every((v: { status: string }) => v.status !== 'uploaded')).toBe(true);
    ok(repo, ['history', '--verify', '--remote', 'origin']);
  });
});

