/**
 * `modelctl watch` end to end (a full-suite file: it runs about half a minute), as a deployer with no repository would run it against an S3
 * remote (s3rver): a promote --push in another repository leads to the new files in place
 * (an atomic symlink switch) and the hook run with MODELCTL_* variables; a rollback too; an
 * outage of the remote in between does not stop it, and the move made during the outage is
 * deployed once the remote is back; a failing hook puts the previous version back; webhook
 * bodies carry a valid HMAC signature; SIGTERM stops it cleanly (exit 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutageProxy, type OutageProxy } from '../helpers/outage-proxy.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { BIN, cliEnv, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

const SECRET = 'watch-test-webhook-secret-0123456789';
const AWS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

interface Line {
  event: string;
  level: string;
  message: string;
  version?: { ref: string; id: string } | null;
  data?: Record<string, unknown>;
}

describe('watch: deploy on stage change, end to end over S3', () => {
  let s3: S3rverHandle;
  let proxy: OutageProxy;
  let hooks: Server;
  let hookUrl: string;
  const deliveries: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let child: ChildProcess | null = null;
  const lines: Line[] = [];
  let stderr = '';

  beforeAll(async () => {
    s3 = await startS3rver({ bucket: 'registry', forceChild: true });
    proxy = await startOutageProxy(s3.endpoint);
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString('utf8')));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/deploy`;
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await new Promise<void>((r) => hooks?.close(() => r()));
    await proxy?.close();
    await s3?.stop();
  });

  /** Waits for a line of the watcher's JSON log matching `pred` (after `from` lines). */
  async function waitFor(pred: (l: Line) => boolean, from: number, ms = 30_000): Promise<Line> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = lines.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no matching watch line in ${ms} ms; got:\n${lines.map((l) => `${l.event}: ${l.message}`).join('\n')}\nstderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('deploys each move, survives an outage, keeps the old version when the hook fails, and stops on SIGTERM', async () => {
    // The team's repository, talking to the store directly.
    const team = tempRepo();
    expect(runCli(team, ['remote', 'add', 'origin', 's3://registry/team', '--endpoint', s3.endpoint, '--default']).code).toBe(0);
    for (const n of [1, 2, 3]) {
      writeFile(team, 'model/weights.bin', `weights ${n}\n`);
      writeFile(team, 'model/config/tokenizer.json', JSON.stringify({ n }));
      expect(runCli(team, ['commit', 'fraud', 'model/', '-m', `v${n}`], { env: AWS }).code).toBe(0);
    }
    expect(runCli(team, ['push'], { env: AWS }).code).toBe(0);
    expect(runCli(team, ['promote', 'fraud@v1', '--to', 'production', '--push', '--yes'], { env: AWS }).code).toBe(0);

    // The deployer: no repository, the remote behind the outage proxy.
    const host = tempDir();
    const out = join(host, 'srv', 'fraud');
    const hookLog = join(host, 'hook.log');
    const failFlag = join(host, 'fail-next');
    writeFileSync(join(host, 'hook.key'), SECRET);
    const hook = `test ! -e ${failFlag} || { echo "health check failed"; exit 3; }; echo "$MODELCTL_ACTION $MODELCTL_REF from=$MODELCTL_FROM_REF stage=$MODELCTL_STAGE reason=$MODELCTL_REASON $(cat "$MODELCTL_OUT/model/weights.bin")" >> ${hookLog}`;
    child = spawn(
      process.execPath,
      [BIN, 'watch', 'fraud@production', '--remote', 's3://registry/team', '--out', out, '--exec', hook, '--interval', '1s', '--webhook', hookUrl, '--webhook-secret-file', join(host, 'hook.key'), '--json'],
      { cwd: host, env: cliEnv({ ...AWS, CI: '1', AWS_ENDPOINT_URL_S3: proxy.endpoint, MODELCTL_S3_MAX_ATTEMPTS: '2', MODELCTL_S3_CONNECT_TIMEOUT_MS: '2000' }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Line);
    });
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));

    const weights = () => readFileSync(join(out, 'model/weights.bin'), 'utf8');
    const hookLines = () => (existsSync(hookLog) ? readFileSync(hookLog, 'utf8').trim().split('\n') : []);

    // 1. The current holder is deployed at start.
    await waitFor((l) => l.event === 'deployed' && l.version?.ref === 'fraud@v1', 0);
    expect(weights()).toBe('weights 1\n');
    expect(readlinkSync(out)).toMatch(/versions\/v1-[0-9a-f]{12}$/);
    expect(hookLines()).toEqual(['deploy fraud@v1 from= stage=production reason= weights 1']);

    // 2. A promote in another repository: new files in place, hook run.
    let mark = lines.length;
    expect(runCli(team, ['promote', 'fraud@v2', '--to', 'production', '--push', '--yes', '--reason', 'better'], { env: AWS }).code).toBe(0);
    await waitFor((l) => l.event === 'deployed' && l.version?.ref === 'fraud@v2', mark);
    expect(weights()).toBe('weights 2\n');
    expect(JSON.parse(readFileSync(join(out, 'model/config/tokenizer.json'), 'utf8'))).toEqual({ n: 2 });
    expect(hookLines()[1]).toBe('deploy fraud@v2 from=fraud@v1 stage=production reason=better weights 2');

    // 3. An outage: the watcher reports remote errors and keeps going; a move made meanwhile lands after.
    mark = lines.length;
    proxy.setDown(true);
    const failed = await waitFor((l) => l.event === 'retrying', mark);
    expect(failed.data?.exitCode).toBe(7);
    expect(runCli(team, ['promote', 'fraud@v3', '--to', 'production', '--push', '--yes'], { env: AWS }).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(child.exitCode).toBeNull();
    expect(weights()).toBe('weights 2\n');
    proxy.setDown(false);
    await waitFor((l) => l.event === 'deployed' && l.version?.ref === 'fraud@v3', mark, 60_000);
    expect(weights()).toBe('weights 3\n');

    // 4. A rollback is deployed too, as a rollback.
    mark = lines.length;
    expect(runCli(team, ['rollback', 'fraud', '--stage', 'production', '--push', '--yes', '--reason', 'latency'], { env: AWS }).code).toBe(0);
    await waitFor((l) => l.event === 'deployed' && l.version?.ref === 'fraud@v2', mark);
    expect(weights()).toBe('weights 2\n');
    expect(hookLines().at(-1)).toBe('rollback fraud@v2 from=fraud@v3 stage=production reason=latency weights 2');

    // 5. A failing hook: the previous version is put back and reported; not retried until the stage moves.
    mark = lines.length;
    writeFileSync(failFlag, '');
    expect(runCli(team, ['promote', 'fraud@v1', '--to', 'production', '--push', '--yes'], { env: AWS }).code).toBe(0);
    const bad = await waitFor((l) => l.event === 'deploy-failed', mark);
    expect(bad.version?.ref).toBe('fraud@v1');
    expect(bad.data).toMatchObject({ exitCode: 3 });
    expect(String(bad.data?.output)).toContain('health check failed');
    expect(weights()).toBe('weights 2\n');
    rmSync(failFlag);
    await new Promise((r) => setTimeout(r, 2500));
    expect(lines.slice(mark).filter((l) => l.event === 'deploy-failed' || l.event === 'deployed')).toHaveLength(1);
    expect(weights()).toBe('weights 2\n');

    // 6. Webhooks: every body is signed with the shared secret over timestamp.body.
    expect(deliveries.length).toBeGreaterThanOrEqual(6);
    for (const d of deliveries) {
      const ts = String(d.headers['x-modelctl-timestamp']);
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${d.body}`).digest('hex')}`;
      expect(d.headers['x-modelctl-signature']).toBe(expected);
      expect(JSON.parse(d.body).event).toBe(d.headers['x-modelctl-event']);
    }
    const kinds = deliveries.map((d) => `${JSON.parse(d.body).event}:${JSON.parse(d.body).version.ref}`);
    expect(kinds).toContain('deployed:fraud@v3');
    expect(kinds).toContain('deploy-failed:fraud@v1');

    // 7. SIGTERM while idle: a clean stop.
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.at(-1)?.event).toBe('stopped');
    expect(readlinkSync(out)).toMatch(/versions\/v2-/);
  }, 240_000);

});
