/**
 * What `verify` of the whole store must not be blind to (issue 10, items 2 and 3): a
 * version no remote holds whose objects are gone, a damaged index file (SQLite's
 * quick_check), and manifests the index does not know.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { pseudoRandomBytes, runCli, runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

function ok(repo: string, args: string[]) {
  const r = runCli(repo, args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

function objectFiles(repo: string): string[] {
  const dir = join(repo, '.modelctl', 'objects');
  return readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)).map((f) => join(dir, d, f)));
}

describe('verify', () => {
  it('a version no remote holds whose objects are gone is missing-object (exit 6), even without object rows', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', pseudoRandomBytes(100_000, 1));
    ok(repo, ['commit', 'm', 'w.bin']);
    for (const f of objectFiles(repo)) rmSync(f, { force: true });
    // The rebuilt index has no row for the object (nothing on disk), so the version looks
    // like metadata only; no remote has it, so its bytes are simply lost.
    ok(repo, ['verify', '--rebuild-index']);
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    expect(v.json().problems.map((p: { kind: string }) => p.kind)).toContain('missing-object');
  });

  it('a version fetched from a remote is metadata only here: verify stays clean', () => {
    const a = tempRepo();
    const remote = tempDir();
    writeFile(a, 'w.bin', pseudoRandomBytes(100_000, 2));
    ok(a, ['commit', 'm', 'w.bin']);
    ok(a, ['remote', 'add', 'origin', remote, '--default']);
    ok(a, ['push']);
    const b = tempRepo();
    ok(b, ['remote', 'add', 'origin', remote, '--default']);
    ok(b, ['fetch']);
    const v = ok(b, ['verify', '--json']).json();
    expect(v.problems).toEqual([]);
    // The same version named: clean too (it exited 6 with every object "missing"), and says
    // what it could not check here.
    const one = ok(b, ['verify', 'm@v1', '--json']).json();
    expect(one.problems).toEqual([]);
    expect(one.objectsChecked).toBe(0);
    expect(one.remoteOnly).toBeGreaterThan(0);
    // Its bytes pulled into the store (pull --out keeps them there): checked for real.
    ok(b, ['pull', 'm@v1', '--out', join(tempDir(), 'out')]);
    const pulled = ok(b, ['verify', 'm@v1', '--json']).json();
    expect(pulled.remoteOnly).toBe(0);
    expect(pulled.objectsChecked).toBeGreaterThan(0);
  });

  it('verify <ref> of a version no remote holds, its objects gone, is still missing-object (exit 6)', () => {
    const repo = tempRepo();
    writeFile(repo, 'w.bin', pseudoRandomBytes(100_000, 3));
    ok(repo, ['commit', 'm', 'w.bin']);
    for (const f of objectFiles(repo)) rmSync(f, { force: true });
    const v = runCli(repo, ['verify', 'm@v1', '--json']);
    expect(v.code).toBe(6);
    expect(v.json().problems.map((p: { kind: string }) => p.kind)).toContain('missing-object');
  });

  it('runs SQLite quick_check: a damaged index page is index-corrupt (exit 6), and the rebuild repairs it', () => {
    const repo = tempRepo();
    for (let i = 0; i < 6; i++) {
      writeFile(repo, `f${i}.bin`, pseudoRandomBytes(1000, i + 10));
      ok(repo, ['commit', 'm', `f${i}.bin`, '-m', `v${i} ${'x'.repeat(3000)}`]);
    }
    ok(repo, ['tag', 'm@v2', 'keep']);
    const db = join(repo, '.modelctl', 'index.db');
    // Overwrite cell pointers of the files_digest index's root page (found from sqlite_master).
    const page = rootPage(db, 'files_digest');
    const bytes = readFileSync(db);
    bytes.fill(0xff, 4096 * (page - 1) + 8, 4096 * (page - 1) + 48);
    writeFileSync(db, bytes);
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    expect(v.json().problems.map((p: { kind: string }) => p.kind)).toContain('index-corrupt');
    expect(v.error().hint).toContain('--rebuild-index');
    ok(repo, ['verify', '--rebuild-index']);
    ok(repo, ['verify']);
    expect(ok(repo, ['log', 'm', '--json']).json().versions).toHaveLength(6);
    expect(ok(repo, ['show', 'm@keep', '--json']).json().version.number).toBe(2);
  });

  it('a manifest left by a commit killed before recording its version: reported, not an error; gc keeps its objects; the rebuild records it', async () => {
    const repo = tempRepo();
    writeFile(repo, 'a.bin', pseudoRandomBytes(100_000, 3));
    ok(repo, ['commit', 'm', 'a.bin']);
    const b = pseudoRandomBytes(200_000, 4);
    writeFile(repo, 'b.bin', b);
    const barriers = new Barriers();
    barriers.arm('commit-before-record');
    const run = runCliAsync(repo, ['commit', 'm', 'b.bin'], { env: barriers.env });
    await barriers.reached('commit-before-record');
    process.kill(barriers.pid('commit-before-record'), 'SIGKILL');
    await run;
    const v = ok(repo, ['verify', '--json']).json();
    expect(v.problems.map((p: { kind: string }) => p.kind)).toContain('unrecorded-manifest');
    const g = runCli(repo, ['gc', '--json'], { env: { MODELCTL_GC_GRACE_SECONDS: '0' } }).json();
    expect(g.deleted).toEqual([]);
    expect(objectFiles(repo)).toHaveLength(2);
    ok(repo, ['verify', '--rebuild-index']);
    const out = tempDir();
    ok(repo, ['checkout', 'm@v2', '--out', out]);
    expect(readFileSync(join(out, 'b.bin')).equals(b)).toBe(true);
    expect(existsSync(join(repo, '.modelctl', 'journal.jsonl'))).toBe(true);
  });
});

const require = createRequire(import.meta.url);

function rootPage(dbPath: string, name: string): number {
  // The schema table lives on page 1; read it with a tiny query through the sqlite module.
  const Database = require('better-sqlite3') as new (p: string, o: { readonly: boolean }) => { prepare(s: string): { get(...a: unknown[]): unknown }; close(): void };
  const db = new Database(dbPath, { readonly: true });
  const row = db.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').get(name) as { rootpage: number };
  db.close();
  return row.rootpage;
}
