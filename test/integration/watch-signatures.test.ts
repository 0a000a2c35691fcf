/**
 * `watch` checks signatures where policy requires before it places a version (issue 15, the
 * pull gate of src/sync/signature-gate.ts): here the deploy host's own modelctl.json says
 * production must be signed by `release`. An unsigned version at production is reported
 * (deploy-failed, SIGNATURE_MISSING), nothing is placed, and the watcher keeps running; once
 * the signature is pushed, or a signed version is promoted, it is placed (with model.sig).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sign } from '../../src/api/sign.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { apiEnv, commitIn, promoteIn, pushIn, repoWithFolderRemote } from '../helpers/setup-api.js';
import { BIN, cliEnv, runCli, tempDir, writeFile } from '../helpers/temp-repo.js';

// The team side (commits, signatures, pushes, stage moves) is arranged through the Node API
// (setup-api.ts); what each test checks, the watch command, runs through the built CLI.

/** `modelctl sign <ref> --key <key>`. */
async function signIn(cwd: string, ref: string, key: string): Promise<void> {
  await sign({ cwd, env: apiEnv(), ref, key, argv: ['sign', ref, '--key', key] });
}

interface WatchLine {
  event: string;
  level: string;
  version?: { ref: string } | null;
  data?: { code?: string; missing?: string[] };
}

describe('watch: the signature gate', () => {
  it('refuses an unsigned version at a stage that requires signatures, keeps running, and places a signed one', async () => {
    const { repo: team, registry } = await repoWithFolderRemote();
    for (const n of [1, 2]) {
      writeFile(team, 'model/w.bin', `weights ${n}\n`);
      await commitIn(team, 'fraud', ['model/'], `v${n}`);
    }
    writeKeyPair(team, 'release', { type: 'ec', curve: 'prime256v1' });
    await pushIn(team);
    await promoteIn(team, 'fraud@v1', 'production', { push: true });

    // The deploy host: no repository, a modelctl.json with its trust and its gate.
    const host = tempDir();
    writeFile(host, 'keys/release.pub', readFileSync(join(team, 'release.pub')));
    writeFileSync(join(host, 'modelctl.json'), JSON.stringify({ trust: { keys: { release: 'keys/release.pub' } }, policies: { production: { require_signatures: ['release'] } } }));
    const out = join(host, 'model');
    const versionsDir = join(host, '.model.modelctl-watch', 'versions');

    const w = spawn(process.execPath, [BIN, 'watch', 'fraud@production', '--remote', registry, '--out', out, '--exec', 'true', '--interval', '1s', '--json'], { cwd: host, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let errText = '';
    w.stdout!.on('data', (b: Buffer) => (text += b.toString('utf8')));
    w.stderr!.on('data', (b: Buffer) => (errText += b.toString('utf8')));
    const code = new Promise<number | null>((r) => w.on('exit', (c) => r(c)));
    const lines = () => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as WatchLine);
    const waitFor = async (pred: (l: WatchLine) => boolean, what: string) => {
      const end = Date.now() + 30_000;
      while (!lines().some(pred)) {
        if (Date.now() > end) throw new Error(`watch never reported ${what}:\n${text}\n${errText}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return lines().find(pred)!;
    };
    try {
      const refused = await waitFor((l) => l.event === 'deploy-failed', 'deploy-failed');
      expect(refused.version?.ref).toBe('fraud@v1');
      expect(refused.data?.code).toBe('SIGNATURE_MISSING');
      expect(refused.data?.missing).toEqual(['release']);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(versionsDir) ? readdirSync(versionsDir) : []).toEqual([]);

      // The signature arrives later for the same version: the next look places it.
      await signIn(team, 'fraud@v1', 'release.pem');
      await pushIn(team);
      await waitFor((l) => l.event === 'deployed' && l.version?.ref === 'fraud@v1', 'fraud@v1 deployed');
      expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('weights 1\n');
      expect(existsSync(join(out, 'model.sig'))).toBe(true);

      // v2 unsigned: refused, v1 stays; v2 signed and promoted again is placed.
      await promoteIn(team, 'fraud@v2', 'production', { push: true });
      await waitFor((l) => l.event === 'deploy-failed' && l.version?.ref === 'fraud@v2', 'fraud@v2 refused');
      expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('weights 1\n');
      await signIn(team, 'fraud@v2', 'release.pem');
      await pushIn(team);
      await waitFor((l) => l.event === 'deployed' && l.version?.ref === 'fraud@v2', 'fraud@v2 deployed');
      expect(readFileSync(join(out, 'model/w.bin'), 'utf8')).toBe('weights 2\n');
      // Each refusal was reported once, not at every look.
      expect(lines().filter((l) => l.event === 'deploy-failed').map((l) => l.version?.ref)).toEqual(['fraud@v1', 'fraud@v2']);
    } finally {
      w.kill('SIGTERM');
    }
    expect(await code).toBe(0);
  }, 90_000);

  it('without --out, the hook is not run for an unsigned version', async () => {
    const { repo: team, registry } = await repoWithFolderRemote();
    writeFile(team, 'model/w.bin', 'weights\n');
    await commitIn(team, 'fraud', ['model/'], 'v1');
    writeKeyPair(team, 'release', { type: 'ec', curve: 'prime256v1' });
    await promoteIn(team, 'fraud@v1', 'production', { push: true });
    await pushIn(team);
    const host = tempDir();
    writeFile(host, 'keys/release.pub', readFileSync(join(team, 'release.pub')));
    writeFileSync(join(host, 'modelctl.json'), JSON.stringify({ trust: { keys: { release: 'keys/release.pub' } }, models: { fraud: { require_signatures: ['release'] } } }));
    const hookLog = join(host, 'hook.log');
    const once = () => runCli(host, ['watch', 'fraud@production', '--remote', registry, '--exec', `echo "$MODELCTL_REF" >> ${hookLog}`, '--state', join(host, 'state'), '--once', '--json']);
    const first = once();
    // The refusal is the --once run's outcome: exit 6, as pull would.
    expect(first.code, first.stderr).toBe(6);
    expect(first.stdout).toContain('"event":"deploy-failed"');
    expect(existsSync(hookLog)).toBe(false);

    await signIn(team, 'fraud@v1', 'release.pem');
    await pushIn(team);
    const second = once();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('"event":"deployed"');
    expect(readFileSync(hookLog, 'utf8')).toBe('fraud@v1\n');
  }, 60_000);
});
