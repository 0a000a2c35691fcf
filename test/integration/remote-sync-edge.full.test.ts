import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteAdd } from '../../src/api/remote-manage.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { fileDigestFromChunks } from '../../src/store/file-digest.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { apiEnv, commitIn, fetchIn, pushIn, remoteAddIn, tagIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { commitNoMessage, pushTo, publish, pushedForTampering } from '../helpers/remote-sync.js';

describe('push, fetch and pull over a directory remote', () => {

  it('a pull into a work tree that already holds the files stores their bytes: export, verify and a later checkout need no remote', async () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    const w1 = pseudoRandomBytes(300_000, 21);
    writeFile(a, 'm/w.bin', w1);
    writeFile(a, 'm/small.txt', 'small');
    // Arranged through the Node API (setup-api.ts); what the test checks runs through the CLI.
    await commitNoMessage(a, 'fraud', ['m']);
    writeFile(a, 'm/w.bin', pseudoRandomBytes(300_000, 22));
    await commitNoMessage(a, 'fraud', ['m']);
    await pushTo(a, remote);

    // A clone whose work tree came with v1's files (a git checkout of the training repository).
    const b = tempRepo();
    writeFile(b, 'm/w.bin', w1);
    writeFile(b, 'm/small.txt', 'small');
    const p = runCli(b, ['pull', 'fraud@v1', '--remote', remote, '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.json().files.map((f: { action: string }) => f.action)).toEqual(['unchanged', 'unchanged']);
    const v = runCli(b, ['verify', 'fraud@v1', '--json']);
    expect(v.code, v.stderr).toBe(0);
    const e = runCli(b, ['export', 'fraud@v1', '-o', join(tempDir(), 'v1.tar')]);
    expect(e.code, e.stderr).toBe(0);
    expect(runCli(b, ['pull', 'fraud@v2', '--remote', remote]).code).toBe(0);
    const back = runCli(b, ['checkout', 'fraud@v1']);
    expect(back.code, back.stderr).toBe(0);
    expect(readFileSync(join(b, 'm/w.bin')).equals(w1)).toBe(true);
  });

  it('a number the remote already gave away is taken by the next free one, locally renumbered, and said', async () => {
    const remote = join(tempDir(), 'registry');
    const a = tempRepo();
    const b = tempRepo();
    writeFile(a, 'w', 'from a');
    writeFile(b, 'w', 'from b');
    // Arranged through the Node API (setup-api.ts); b's push and what follows run through the CLI.
    await commitNoMessage(a, 'fraud', ['w']);
    await commitNoMessage(b, 'fraud', ['w']);
    await pushTo(a, remote);
    const r = runCli(b, ['push', '--remote', remote, '--json']);
    expect(r.code).toBe(0);
    expect(r.json().renumbered).toEqual([expect.objectContaining({ from: 1, to: 2 })]);
    expect(runCli(b, ['push', '--remote', remote]).stdout).not.toContain('renumbered');
    const human = runCli(tempRepo(), ['fetch', '--remote', remote, '--json']).json();
    expect(human.models[0].newVersions.map((v: { number: number }) => v.number)).toEqual([1, 2]);
    expect(runCli(b, ['show', 'fraud@v2', '--json']).json().version.id).toBe(r.json().versions[0].id);
    // b learns about a's v1 on fetch.
    runCli(b, ['fetch', '--remote', remote]);
    expect(runCli(b, ['log', 'fraud', '--json']).json().versions.map((v: { number: number }) => v.number)).toEqual([2, 1]);
  });

  it('a tag another clone published meanwhile is a PUSH_CONFLICT (exit 4) after the versions went up, carrying the result; the remote keeps the first tag', async () => {
    const remote = join(tempDir(), 'registry');
    const [a, b] = [tempRepo(), tempRepo()];
    // Arranged through the Node API (setup-api.ts); b's push, the one under test, runs through the CLI.
    for (const r of [a, b]) await remoteAddIn(r, 'origin', remote, { default: true });
    writeFile(a, 'm.bin', pseudoRandomBytes(3000, 1));
    await commitIn(a, 'm', ['m.bin'], 'a');
    await pushIn(a);
    await fetchIn(b);
    writeFile(b, 'm.bin', pseudoRandomBytes(3000, 2));
    await commitIn(b, 'm', ['m.bin'], 'b');
    // Both name `best`, neither has seen the other's: a publishes first.
    await tagIn(a, 'm@v1', 'best');
    await tagIn(b, 'm@v2', 'best');
    await pushIn(a);
    const lost = runCli(b, ['push', '--json']);
    expect(lost.code, lost.stderr).toBe(4);
    const err = lost.error();
    expect(err.code).toBe('PUSH_CONFLICT');
    expect(err.message).toContain('tag m@best');
    expect(err.data.result.versions.map((v: { ref: string; status: string }) => v.status)).toContain('uploaded');
    expect(err.data.result.tags).toEqual([{ model: 'm', tag: 'best', status: 'conflict', remoteVersion: expect.any(String), movedBy: expect.any(String) }]);
    const c = tempRepo();
    await remoteAddIn(c, 'origin', remote, { default: true });
    await fetchIn(c);
    expect(runCli(c, ['show', 'm@best', '--json']).json().version.number).toBe(1);
  });
});

describe('hostile remote content is rejected with exit 6 and nothing is written outside the target', () => {

  it('a chunk whose bytes do not hash to its name', async () => {
    const { remote } = await pushedForTampering();
    const chunk = readdirSync(join(remote, 'chunks'))[0];
    const p = join(remote, 'chunks', chunk);
    const bytes = readFileSync(p);
    bytes[10] ^= 1;
    writeFileSync(p, bytes);
    const ci = tempDir();
    expect(runCli(ci, ['pull', 'fraud@v1', '--remote', remote, '--out', 'o']).code).toBe(6);
    expect(existsSync(join(ci, 'o/m/w.bin'))).toBe(false);
    const b = tempRepo();
    expect(runCli(b, ['pull', 'fraud@v1', '--remote', remote, '--out', 'o']).code).toBe(6);
    expect(runCli(b, ['verify']).code).toBe(0);
  });

  it('sizes that disagree with the chunks', async () => {
    const { remote, manifest } = await pushedForTampering();
    const evil = { ...manifest, files: manifest.files.map((f: { size: number }) => ({ ...f, size: f.size + 1 })) };
    publish(remote, evil);
    const ci = tempDir();
    expect(runCli(ci, ['pull', 'fraud@v2', '--remote', remote, '--out', 'o']).code).toBe(6);
    expect(existsSync(join(ci, 'o/m/w.bin'))).toBe(false);
  });

  it('a file list that lies about its chunks', async () => {
    const { remote } = await pushedForTampering();
    const lists = readdirSync(join(remote, 'files'));
    const p = join(remote, 'files', lists[0]);
    const list = JSON.parse(readFileSync(p, 'utf8'));
    list.chunks[0][1] += 1;
    writeFileSync(p, canonicalJson(list));
    expect(runCli(tempDir(), ['pull', 'fraud@v1', '--remote', remote, '--out', 'o']).code).toBe(6);
  });

  it('a chunk list whose every chunk hashes right but that cuts the file where the chunker would not', async () => {
    const { remote, manifest } = await pushedForTampering();
    const big = manifest.files.find((f: { chunk?: string }) => !f.chunk);
    const list = JSON.parse(readFileSync(join(remote, 'files', `${big.digest}.json`), 'utf8'));
    // Split the first chunk in two: both halves are genuine, uploaded chunks.
    const first = readFileSync(join(remote, 'chunks', list.chunks[0][0]));
    const halves = [first.subarray(0, 100_000), first.subarray(100_000)];
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    for (const h of halves) writeFileSync(join(remote, 'chunks', sha(h)), h);
    const chunks = [...halves.map((h) => [sha(h), h.length]), ...list.chunks.slice(1)];
    const digest = fileDigestFromChunks(chunks.map(([d]: [string]) => d));
    writeFileSync(join(remote, 'files', `${digest}.json`), canonicalJson({ ...list, digest, chunks }));
    publish(remote, { ...manifest, files: manifest.files.map((f: { digest: string }) => (f.digest === big.digest ? { ...f, digest } : f)) });
    const ci = tempDir();
    const r = runCli(ci, ['pull', 'fraud@v2', '--remote', remote, '--out', 'o', '--json']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('CORRUPT_FILE');
    expect(existsSync(join(ci, 'o/m/w.bin'))).toBe(false);
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

  it('a URL remote takes --endpoint and --region on every command, with no repository and no AWS_ENDPOINT_URL_S3', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_ENDPOINT_URL_S3: '', AWS_ENDPOINT_URL: '', AWS_REGION: '' };
    const url = 's3://registry/endpoint-flags';
    const where = ['--endpoint', s3.endpoint, '--region', 'us-east-1'];
    const a = tempRepo();
    writeFile(a, 'm/w.bin', pseudoRandomBytes(300_000, 43));
    await commitNoMessage(a, 'fraud', ['m']); // arranged through the Node API (setup-api.ts)
    expect(runCli(a, ['push', '--remote', url, ...where], { env }).code).toBe(0);
    expect(runCli(a, ['fetch', '--remote', url, ...where], { env }).code).toBe(0);
    expect(runCli(a, ['verify', 'fraud', '--remote', url, ...where], { env }).code).toBe(0);
    expect(runCli(a, ['tag', 'fraud@v1', 'rc', '--push', '--remote', url, ...where], { env }).code).toBe(0);
    const status = runCli(a, ['remote', 'status', url, ...where, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().remotes[0]).toMatchObject({ models: [], inSync: ['fraud'] });
    const ci = tempDir();
    expect(runCli(ci, ['show', 'fraud@rc', '--remote', url, ...where], { env }).code).toBe(0);
    expect(runCli(ci, ['history', '--remote', url, ...where], { env }).code).toBe(0);
    const ls = runCli(ci, ['ls', '--remote', url, ...where, '--json'], { env });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json().models.map((m: { name: string }) => m.name)).toEqual(['fraud']);
    expect(runCli(ci, ['log', 'fraud', '--remote', url, ...where], { env }).code).toBe(0);
    const pulled = runCli(ci, ['pull', 'fraud', '--remote', url, ...where, '--out', 'o'], { env });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(join(ci, 'o/m/w.bin')).equals(readFileSync(join(a, 'm/w.bin')))).toBe(true);
    // --endpoint belongs to a URL; a configured remote keeps its own.
    await remoteAdd({ cwd: a, env: apiEnv(), name: 'origin', url, endpoint: s3.endpoint }); // arranged through the Node API
    expect(runCli(a, ['fetch', '--remote', 'origin', '--endpoint', 'http://127.0.0.1:1'], { env }).code).toBe(2);
    // A model the remote does not have: the hint's command must reach the same server, so it
    // carries --endpoint (a URL remote) or the configured name (which has its endpoint).
    for (const cmd of [['history', 'fruad'], ['log', 'fruad'], ['show', 'fruad@v1']]) {
      const miss = runCli(ci, [...cmd, '--remote', url, ...where, '--json'], { env });
      expect(miss.code, `${cmd[0]}: ${miss.stderr}`).toBe(3);
      expect(miss.error().hint, cmd[0]).toContain(`--endpoint ${s3.endpoint}`);
    }
    const named = runCli(a, ['fetch', 'nosuch', '--remote', 'origin', '--json'], { env });
    expect(named.code).toBe(3);
    expect(named.error().hint).toContain('--remote origin');
  });
});
