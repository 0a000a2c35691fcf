/**
 * `modelctl watch`, the quick part: placing by rename, rollbacks followed, and what it cannot
 * do refused before it starts watching. Signals (SIGTERM, SIGINT, a hook killed while watch
 * stops) are in watch-signals.full.test.ts, the S3 end-to-end run with an outage in
 * watch-s3.full.test.ts.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rollback } from '../../src/api/rollback.js';
import { apiEnv, commitIn, promoteIn, pushIn, repoWithFolderRemote } from '../helpers/setup-api.js';
import { runCli, tempDir, writeFile } from '../helpers/temp-repo.js';

// The team side (commits, pushes, stage moves) is arranged through the Node API
// (setup-api.ts); what each test checks, the watch command, runs through the built CLI.

/** `modelctl rollback <model> --stage <stage> --push --yes`. */
async function rollbackIn(cwd: string, model: string, stage: string): Promise<void> {
  await rollback({ cwd, env: apiEnv(), model, stage, push: true, argv: ['rollback', model, '--stage', stage, '--push', '--yes'] });
}

describe('watch', () => {
  it('--place rename keeps --out a real folder, switches it, and switches back when the hook fails', async () => {
    const { repo: team, registry } = await repoWithFolderRemote();
    for (const n of [1, 2]) {
      writeFile(team, 'model/w.bin', `w${n}\n`);
      await commitIn(team, 'fraud', ['model/'], `v${n}`);
    }
    await pushIn(team);
    const host = tempDir();
    const out = join(host, 'model');
    const watchOnce = (exec: string) => runCli(host, ['watch', 'fraud@production', '--remote', registry, '--out', out, '--place', 'rename', '--exec', exec, '--once', '--json']);
    const deployed = (r: ReturnType<typeof runCli>) => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; version?: { ref: string } }).filter((l) => l.event === 'deployed' || l.event === 'deploy-failed').map((l) => `${l.event}:${l.version?.ref}`);

    await promoteIn(team, 'fraud@v1', 'production', { push: true });
    expect(deployed(watchOnce('true'))).toEqual(['deployed:fraud@v1']);
    expect(lstatSync(out).isDirectory()).toBe(true);
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('w1\n');

    await promoteIn(team, 'fraud@v2', 'production', { push: true });
    expect(deployed(watchOnce('true'))).toEqual(['deployed:fraud@v2']);
    expect(lstatSync(out).isDirectory()).toBe(true);
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('w2\n');

    await rollbackIn(team, 'fraud', 'production');
    // A cron job's --once sees the failed hook in its exit code (5, DEPLOY_FAILED) ...
    const failed = watchOnce('exit 1');
    expect(deployed(failed)).toEqual(['deploy-failed:fraud@v1']);
    expect(failed.code, failed.stderr).toBe(5);
    expect(JSON.parse(failed.stderr.trim().split('\n').pop()!).error).toMatchObject({ code: 'DEPLOY_FAILED', exitCode: 5, data: { exitCode: 1 } });
    // A --once run has no later look, so its deploy-failed line does not promise one.
    const failedLine = failed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; message: string }).find((l) => l.event === 'deploy-failed')!;
    expect(failedLine.message).toContain('--exec failed with exit code 1');
    expect(failedLine.message).not.toContain('waiting for');
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('w2\n');
    // ... once: the failure is remembered, and the next look, with the stage unmoved, deploys nothing and exits 0.
    const unmoved = watchOnce('true');
    expect(unmoved.code, unmoved.stderr).toBe(0);
    expect(deployed(unmoved)).toEqual([]);
    // It says why it deploys nothing: the remembered failure, as a warning.
    const told = unmoved.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; level: string; message: string; version?: { ref: string } }).filter((l) => l.event === 'waiting');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 'warn', version: { ref: 'fraud@v1' } });
    expect(told[0]!.message).toContain('--exec failed with exit code 1');
    expect(told[0]!.message).toContain('nothing is tried until fraud@production moves');
    expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('w2\n');

    // Read by a person, a failed --once deploy says why once: as the run's error, not also
    // as a log line before it.
    writeFile(team, 'model/w.bin', 'w3\n');
    await commitIn(team, 'fraud', ['model/'], 'v3');
    await pushIn(team);
    await promoteIn(team, 'fraud@v3', 'production', { push: true });
    const person = runCli(host, ['watch', 'fraud@production', '--remote', registry, '--out', out, '--place', 'rename', '--exec', 'exit 3', '--once']);
    expect(person.code, person.stderr).toBe(5);
    expect(person.stderr.match(/deploy of fraud@v3 failed/g), person.stderr).toHaveLength(1);
    expect(person.stderr).toContain('--exec failed with exit code 3; fraud@v2 stays deployed');
  });

  it('--place rename refuses a non-empty folder it did not place, and keeps switching the ones it did', async () => {
    const { repo: team, registry } = await repoWithFolderRemote();
    writeFile(team, 'model/w.bin', 'w1\n');
    await commitIn(team, 'fraud', ['model/'], 'v1');
    await pushIn(team);
    await promoteIn(team, 'fraud@v1', 'production', { push: true });
    await promoteIn(team, 'fraud@v1', 'staging', { push: true });
    const host = tempDir();
    const watchOnce = (ref: string, out: string) => runCli(host, ['watch', ref, '--remote', registry, '--out', out, '--place', 'rename', '--once', '--json']);

    // Before, keep.txt was moved silently into .inway.modelctl-watch/versions/unknown-…/ (exit 0).
    writeFile(host, 'inway/keep.txt', 'important\n');
    const refused = watchOnce('fraud@production', 'inway');
    expect(refused.code).toBe(4);
    expect(refused.error().code).toBe('OUT_IN_THE_WAY');
    expect(refused.error().message).toContain('is not a folder that watch placed');
    expect(readdirSync(join(host, 'inway'))).toEqual(['keep.txt']);
    expect(readFileSync(join(host, 'inway/keep.txt'), 'utf8')).toBe('important\n');
    expect(readdirSync(host)).toEqual(['inway']);

    // An empty folder is taken; what watch placed is switched again, also for another reference.
    mkdirSync(join(host, 'empty'));
    expect(watchOnce('fraud@production', 'empty').code).toBe(0);
    expect(readFileSync(join(host, 'empty/model/w.bin'), 'utf8')).toBe('w1\n');
    const other = watchOnce('fraud@staging', 'empty');
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toContain('"event":"deployed"');
    expect(readFileSync(join(host, 'empty/model/w.bin'), 'utf8')).toBe('w1\n');
  });

  it('refuses what it cannot do before watching: no --out or --exec, --out in the way, an unsigned webhook', () => {
    const host = tempDir();
    expect(runCli(host, ['watch', 'fraud@production', '--remote', '/nonexistent/registry', '--json']).error().code).toBe('NOTHING_TO_DO');
    writeFile(host, 'model/file', 'x');
    const inTheWay = runCli(host, ['watch', 'fraud@production', '--remote', '/nonexistent/registry', '--out', 'model', '--json']);
    expect(inTheWay.code).toBe(4);
    expect(inTheWay.error().code).toBe('OUT_IN_THE_WAY');
    const unsigned = runCli(host, ['watch', 'fraud@production', '--remote', '/x', '--exec', 'true', '--webhook', 'http://127.0.0.1:9/x', '--json'], { env: { MODELCTL_WEBHOOK_SECRET: '' } });
    expect(unsigned.code).toBe(2);
    expect(unsigned.error().code).toBe('WEBHOOK_SECRET_REQUIRED');
    expect(runCli(host, ['watch', 'fraud@production', '--exec', 'true', '--interval', 'soon', '--remote', '/x', '--json']).error().code).toBe('INVALID_DURATION');
  });

  it('a too short --interval (or serve --poll) is refused with examples that are long enough', () => {
    const host = tempDir();
    // Before, the message offered '500ms' as an example of a duration of at least 1000 ms.
    for (const args of [['watch', 'fraud@production', '--exec', 'true', '--interval', '0s', '--remote', '/x', '--json'], ['serve', '--remote', '/x', '--poll', '0s', '--json']]) {
      const r = runCli(host, args);
      expect(r.code).toBe(2);
      expect(r.error().code).toBe('INVALID_DURATION');
      expect(r.error().message).toContain('at least 1000 ms (1s, 30s, 5m, 1h)');
      expect(r.error().message).not.toContain('500ms');
    }
  });
});
