import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteAdd } from '../../src/api/remote-manage.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { apiEnv, commitIn, promoteIn, remoteAddIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { commitNoMessage, pushTo, publish, pushedForTampering } from '../helpers/remote-sync.js';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

describe('push, fetch and pull over a directory remote', () => {
  it('round-trips byte-identical files: empty, one chunk, multi-chunk, many small; second repo sees lineage, tags, stages, history', async () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    writeFile(a, 'model/empty', '');
    writeFile(a, 'model/one-chunk.bin', pseudoRandomBytes(100_000, 5));
    writeFile(a, 'model/big.bin', pseudoRandomBytes(9 * 1024 * 1024 + 3, 6));
    for (let i = 0; i < 120; i++) writeFile(a, `model/small/${i}.txt`, `file ${i}\n`);
    writeFile(a, 'data.csv', 'x\n1\n');
    // Arranged through the Node API (setup-api.ts); push, fetch and pull run through the CLI.
    await commitIn(a, 'fraud', ['model'], 'first', {
      params: ['lr=0.1'],
      metrics: ['acc=0.95'],
      data: ['data.csv'],
      tag: '1.0.0',
    });
    await promoteIn(a, 'fraud@v1', 'staging');
    await remoteAddIn(a, 'origin', remote, { default: true });
    const pushed = runCli(a, ['push', '--json']);
    expect(pushed.code).toBe(0);
    expect(pushed.json().versions[0]).toMatchObject({ ref: 'fraud@v1', status: 'uploaded' });
    expect(pushed.json().chunks.uploaded).toBeGreaterThan(100);
    // A second push has nothing to do.
    const again = runCli(a, ['push', '--json']).json();
    expect(again.chunks.uploaded).toBe(0);
    expect(again.bytesUploaded).toBe(0);

    const b = tempRepo();
    await remoteAddIn(b, 'origin', remote, { default: true });
    const fetched = runCli(b, ['fetch', '--json']);
    expect(fetched.code).toBe(0);
    expect(fetched.json().models[0].newVersions).toHaveLength(1);
    const showA = runCli(a, ['show', 'fraud@v1', '--json']).json();
    const showB = runCli(b, ['show', 'fraud@staging', '--json']).json();
    expect(showB.version.id).toBe(showA.version.id);
    expect(showB.lineage).toEqual(showA.lineage);
    expect(showB.version.tags).toEqual(['1.0.0']);
    expect(showB.version.stages).toEqual(['staging']);
    const histA = runCli(a, ['history', 'fraud', '--json']).json();
    const histB = runCli(b, ['history', 'fraud', '--json']).json();
    const ids = (h: unknown) => (Array.isArray(h) ? h : (h as { events: { id: string }[] }).events).map((e: { id: string }) => e.id);
    expect(ids(histB)).toEqual(ids(histA));
    expect(runCli(b, ['history', '--verify']).code).toBe(0);

    const pulled = runCli(b, ['pull', 'fraud@1.0.0', '--out', 'restored', '--json']);
    expect(pulled.code).toBe(0);
    for (const rel of ['model/empty', 'model/one-chunk.bin', 'model/big.bin', 'model/small/7.txt', 'model/small/119.txt']) {
      expect(readFileSync(join(b, 'restored', rel)).equals(readFileSync(join(a, rel))), rel).toBe(true);
    }
    expect(runCli(b, ['verify']).code).toBe(0);
    // Pulled again: nothing to download.
    const second = runCli(b, ['pull', 'fraud@1.0.0', '--out', 'restored2', '--json']).json();
    expect(second.download.chunksDownloaded).toBe(0);
  });

  it('pulls with no repository for CI, into --out, leaving only the files', async () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    writeFile(a, 'm/w.bin', pseudoRandomBytes(2_000_000, 9));
    writeFile(a, 'm/same-a', 'dup');
    writeFile(a, 'm/same-b', 'dup');
    // Arranged through the Node API (setup-api.ts); the pulls run through the CLI.
    await commitNoMessage(a, 'fraud', ['m']);
    await promoteIn(a, 'fraud', 'staging');
    await promoteIn(a, 'fraud', 'production');
    await pushTo(a, remote);
    const ci = tempDir();
    const r = runCli(ci, ['pull', 'fraud@production', '--remote', remote, '--out', 'model', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().repository).toBe(false);
    expect(readFileSync(join(ci, 'model/m/w.bin')).equals(readFileSync(join(a, 'm/w.bin')))).toBe(true);
    expect(readFileSync(join(ci, 'model/m/same-b'), 'utf8')).toBe('dup');
    // The scratch store is gone; what stays beside the files is the placement record, so the
    // next pull into this folder can replace this version (docs/design.md §10).
    expect(readdirSync(join(ci, 'model')).sort()).toEqual(['.modelctl-placed', 'm']);
    expect(runCli(tempDir(), ['pull', 'fraud@production']).code).toBe(3);
    expect(runCli(ci, ['pull', 'fraud@nosuch', '--remote', remote, '--out', 'x']).code).toBe(3);
    expect(existsSync(join(ci, 'x', '.modelctl-pull'))).toBe(false);
  });

  it('after a fine-tune that changes 10% of a file in scattered regions, push sends only the changed chunks', async () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    const size = 48 * 1024 * 1024;
    const base = pseudoRandomBytes(size, 11);
    writeFile(a, 'w.bin', base);
    // The commits are arranged through the Node API (setup-api.ts); both pushes stay CLI runs (their --json is compared).
    await commitNoMessage(a, 'fraud', ['w.bin']);
    const first = runCli(a, ['push', '--remote', remote, '--json']).json();
    const tuned = Buffer.from(base);
    const region = Math.floor((size * 0.1) / 4);
    for (let r = 0; r < 4; r++) pseudoRandomBytes(region, 100 + r).copy(tuned, Math.floor((size / 4) * r + size / 16));
    writeFile(a, 'w.bin', tuned);
    await commitIn(a, 'fraud', ['w.bin'], 'fine-tune');
    const second = runCli(a, ['push', '--remote', remote, '--json']).json();
    const changed = region * 4;
    expect(second.bytesUploaded).toBeGreaterThan(changed * 0.9);
    // Each changed region drags at most one chunk on each side (≤ 4 MiB each) along.
    expect(second.bytesUploaded).toBeLessThan(changed + 8 * 4 * 1024 * 1024);
    expect(second.bytesUploaded).toBeLessThan(first.bytesUploaded * 0.5);
    const b = tempRepo();
    expect(runCli(b, ['pull', 'fraud@v2', '--remote', remote, '--out', 'o']).code).toBe(0);
    expect(readFileSync(join(b, 'o/w.bin')).equals(tuned)).toBe(true);
  });
  it('refuses a remote written by another format version or chunker (exit 2)', async () => {
    const remote = join(tempDir(), 'registry');
    const a = tempRepo();
    writeFile(a, 'w', 'x');
    // Arranged through the Node API (setup-api.ts); the refused push and fetch run through the CLI.
    await commitNoMessage(a, 'fraud', ['w']);
    await pushTo(a, remote);
    const marker = JSON.parse(readFileSync(join(remote, 'MODELCTL.json'), 'utf8'));
    writeFileSync(join(remote, 'MODELCTL.json'), JSON.stringify({ ...marker, version: 2 }));
    expect(runCli(a, ['push', '--remote', remote, '--json']).error().code).toBe('REMOTE_FORMAT_MISMATCH');
    writeFileSync(join(remote, 'MODELCTL.json'), JSON.stringify({ ...marker, chunking: { ...marker.chunking, avgSize: 65536 } }));
    expect(runCli(a, ['fetch', '--remote', remote]).code).toBe(2);
    expect(runCli(tempRepo(), ['fetch', '--remote', join(tempDir(), 'empty')]).code).toBe(3);
  });
});

describe('verify --remote', () => {
  it('verify --remote re-hashes what the remote holds for a ref (exit 6 on a corrupt chunk)', async () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    writeFile(a, 'w.bin', pseudoRandomBytes(3 * 1024 * 1024, 77));
    // Arranged through the Node API (setup-api.ts); verify runs through the CLI.
    await commitNoMessage(a, 'fraud', ['w.bin']);
    await pushTo(a, remote);
    expect(runCli(a, ['verify', 'fraud', '--remote', remote]).code).toBe(0);
    const chunk = readdirSync(join(remote, 'chunks'))[0];
    writeFileSync(join(remote, 'chunks', chunk), 'tampered');
    const r = runCli(a, ['verify', 'fraud', '--remote', remote, '--json']);
    expect(r.code).toBe(6);
    expect(r.json().problems[0]).toMatchObject({ kind: 'corrupt-object', id: chunk });
  });
});

describe('hostile remote content is rejected with exit 6 and nothing is written outside the target', () => {

  it('a manifest whose bytes do not hash to its name', async () => {
    const { remote, id } = await pushedForTampering();
    const p = join(remote, 'versions', `${id}.json`);
    writeFileSync(p, readFileSync(p, 'utf8').replace('"message":""', '"message":"evil"'));
    const ci = tempDir();
    expect(runCli(ci, ['pull', 'fraud@v1', '--remote', remote, '--out', 'o']).code).toBe(6);
    expect(filesUnder(join(ci, 'o')).filter((f) => !f.includes('.modelctl-pull'))).toEqual([]);
    expect(runCli(tempRepo(), ['fetch', '--remote', remote]).code).toBe(6);
  });

  it('paths with .., absolute, NUL, or escaping --out through a link', async () => {
    for (const path of ['../escape.txt', '/tmp/abs.txt', 'a\u0000b', 'C:/x', '.modelctl-pull/objects/x']) {
      const { remote, manifest } = await pushedForTampering();
      const evil = { ...manifest, files: [{ ...manifest.files[0], path }] };
      publish(remote, evil);
      const ci = tempDir();
      const r = runCli(ci, ['pull', 'fraud@v2', '--remote', remote, '--out', 'o']);
      expect(r.code, path).toBe(6);
      expect(existsSync(join(ci, 'escape.txt'))).toBe(false);
    }
  });
});

describe('push and pull against s3rver', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    // A child process: runCli blocks this worker (spawnSync), so an in-process server could not answer.
    s3 = await startS3rver({ bucket: 'registry', forceChild: true });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('round-trips, and warns that s3rver ignores conditional writes', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
    const a = tempRepo();
    writeFile(a, 'm/w.bin', pseudoRandomBytes(5 * 1024 * 1024, 41));
    writeFile(a, 'm/e', '');
    // Arranged through the Node API (setup-api.ts); push, promote --push and pull run through the CLI.
    await commitIn(a, 'fraud', ['m'], '', { message: undefined, tag: 'v-one', argv: ['commit', 'fraud', 'm', '--tag', 'v-one'] });
    await remoteAdd({ cwd: a, env: apiEnv(), name: 'origin', url: 's3://registry/team', endpoint: s3.endpoint, default: true });
    const p = runCli(a, ['push', '--json'], { env });
    expect(p.code).toBe(0);
    expect(p.json().warnings.join(' ')).toMatch(/conditional writes/);
    expect(p.stderr).toMatch(/conditional writes/);
    // --push moves are compare-and-swap, which s3rver cannot honour: never silently.
    const moved = runCli(a, ['promote', 'fraud', '--to', 'staging', '--push', '--yes', '--json'], { env });
    expect(moved.code).toBe(0);
    expect(moved.json().warnings.join(' ')).toMatch(/conditional writes/);
    expect(moved.stderr).toMatch(/conditional writes/);
    const ci = tempDir();
    const pulled = runCli(ci, ['pull', 'fraud@v-one', '--remote', 's3://registry/team', '--out', 'o'], { env: { ...env, AWS_ENDPOINT_URL_S3: s3.endpoint } });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(join(ci, 'o/m/w.bin')).equals(readFileSync(join(a, 'm/w.bin')))).toBe(true);
    expect(statSync(join(ci, 'o/m/e')).size).toBe(0);
    const all = JSON.stringify([p.stdout, p.stderr, pulled.stdout, pulled.stderr]);
    expect(all).not.toContain('S3RVER');
  });
});
