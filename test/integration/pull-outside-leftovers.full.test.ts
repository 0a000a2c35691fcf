/**
 * A repository-less pull keeps its throwaway store (`--out/.modelctl-pull/`) only as the resume
 * point after network trouble mid-download (README, pull): missing credentials, or a remote
 * that could not be reached before anything was downloaded, leave no folder at all; and a
 * second pull into the same --out while one is filling it is refused (exit 4), touching nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Barriers } from '../helpers/barriers.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { BIN, pseudoRandomBytes, runCli, tempDir, tempRepo, tempRepoWithFolderRemote, writeFile } from '../helpers/temp-repo.js';

describe('a repository-less pull that fails leaves no folder behind', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver({ bucket: 'team' });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('without AWS credentials: exit 7, no .modelctl-pull and no --out folder', () => {
    const ci = tempDir();
    const home = tempDir();
    // No credentials anywhere the SDK looks (variables, ~/.aws, the instance metadata service).
    const env: NodeJS.ProcessEnv = { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_CONFIG_FILE: join(home, 'none'), AWS_REGION: 'us-east-1' };
    for (const k of Object.keys(process.env)) if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE)$/.test(k)) env[k] = '';
    const r = runCli(ci, ['pull', 'face', '--remote', 's3://team/reg', '--endpoint', s3.endpoint, '--out', 'o', '--json'], { env });
    expect(r.code, r.stderr).toBe(7);
    expect(r.error().code).toBe('REMOTE_NO_CREDENTIALS');
    expect(readdirSync(ci)).toEqual([]);
    // Into a folder that was there: the folder stays, empty.
    const ci2 = tempDir();
    expect(runCli(ci2, ['pull', 'face', '--remote', 's3://team/reg', '--endpoint', s3.endpoint, '--out', '.', '--json'], { env }).code).toBe(7);
    expect(readdirSync(ci2)).toEqual([]);
  }, 60_000);
});

describe('a pull whose model is misspelt', () => {
  it("names the remote's closest model, with or without a repository, and leaves nothing behind", () => {
    const { repo: team, registry } = tempRepoWithFolderRemote();
    writeFile(team, 'model/w.bin', 'w1\n');
    expect(runCli(team, ['commit', 'wakeword', 'model/', '-m', 'v1']).code).toBe(0);
    expect(runCli(team, ['push']).code).toBe(0);
    // Before, a CI pull had no model to compare against (its throwaway store held none).
    const ci = tempDir();
    const typo = runCli(ci, ['pull', 'wakewrd@latest', '--remote', registry, '--out', 'model', '--json']);
    expect(typo.code, typo.stderr).toBe(3);
    expect(typo.error()).toMatchObject({ code: 'UNKNOWN_MODEL', data: { model: 'wakewrd', candidates: ['wakeword'] } });
    expect(typo.error().message).toContain("did you mean 'wakeword'?");
    expect(readdirSync(ci)).toEqual([]);
    // A clone that never fetched holds no model either.
    const clone = tempRepo();
    expect(runCli(clone, ['remote', 'add', 'origin', registry, '--default']).code).toBe(0);
    const inClone = runCli(clone, ['pull', 'wakewrd', '--json']);
    expect(inClone.code, inClone.stderr).toBe(3);
    expect(inClone.error().data).toMatchObject({ candidates: ['wakeword'] });
    // Nothing near: the plain answer and its hint stay.
    const far = runCli(ci, ['pull', 'zzz@latest', '--remote', registry, '--out', 'model', '--json']);
    expect(far.code).toBe(3);
    expect(far.error().data).toMatchObject({ candidates: [] });
    expect(far.error().hint).toContain('modelctl ls --remote');
  });
});

describe('a repository-less pull that downloaded nothing keeps nothing', () => {
  it('an unreachable registry: exit 7, no folder', () => {
    const top = tempDir();
    const ci = join(top, 'ci');
    mkdirSync(ci);
    const r = runCli(ci, ['pull', 'face@production', '--remote', 'oci://127.0.0.1:1/ml', '--out', '../p6', '--json']);
    expect(r.code, r.stderr).toBe(7);
    expect(readdirSync(top)).toEqual(['ci']);
  }, 60_000);
});

describe('two repository-less pulls into the same --out', () => {
  it('the second is refused with exit 4 while the first fills it, and the first ends well', async () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    const bytes = pseudoRandomBytes(300_000, 5);
    writeFile(a, 'm/w.bin', bytes);
    expect(runCli(a, ['commit', 'fraud', 'm']).code).toBe(0);
    expect(runCli(a, ['push', '--remote', remote]).code).toBe(0);
    const ci = tempDir();
    const barriers = new Barriers();
    barriers.arm('checkout-staged');
    const first = spawn(process.execPath, [BIN, 'pull', 'fraud@v1', '--remote', remote, '--out', 'o'], { cwd: ci, env: { ...process.env, CI: '1', ...barriers.env }, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => first.on('exit', (c) => r(c)));
    await barriers.reached('checkout-staged');
    const second = runCli(ci, ['pull', 'fraud@v1', '--remote', remote, '--out', 'o', '--json']);
    expect(second.code, second.stderr).toBe(4);
    expect(second.error().code).toBe('PULL_RUNNING');
    expect(second.error().message).toContain(`is filling ${join(ci, 'o')}`);
    expect(second.error().hint).toContain('another --out');
    barriers.release('checkout-staged');
    expect(await exited).toBe(0);
    expect(readFileSync(join(ci, 'o/m/w.bin')).equals(bytes)).toBe(true);
    expect(existsSync(join(ci, 'o', '.modelctl-pull'))).toBe(false);
  }, 60_000);
});
