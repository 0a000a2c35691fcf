import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, writeFile } from '../helpers/temp-repo.js';
import { auditEvents, commitVersion, installHook, lifecycleRepo, runCliAsync, stageHolder } from './lifecycle-helpers.js';

const TEMPLATES = fileURLToPath(new URL('../../templates/hooks/', import.meta.url));

/** A hook that saves its stdin and MODELCTL_* environment next to itself, then exits `code`. */
function recordingHook(name: string, code = 0, say = ''): string {
  return `#!/bin/sh
cat > "$MODELCTL_REPO/${name}.stdin.json"
env | grep '^MODELCTL_' | sort > "$MODELCTL_REPO/${name}.env"
${say ? `echo "${say}"\necho "${say} (stderr)" >&2` : ''}
exit ${code}
`;
}

function readEnv(repo: string, name: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(repo, `${name}.env`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('pre-promote / post-promote hooks', () => {
  it('both get the event JSON on stdin and MODELCTL_* variables; post sees the recorded event', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const v2 = await commitVersion(repo);
    runCli(repo, ['promote', v1.ref, '--to', 'production']);
    installHook(repo, 'pre-promote', recordingHook('pre'));
    installHook(repo, 'post-promote', recordingHook('post'));
    const r = runCli(repo, ['promote', v2.ref, '--to', 'production', '--reason', 'better auc', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = r.json();
    expect(result.hooks.map((h: { hook: string; ran: boolean; exitCode: number }) => [h.hook, h.ran, h.exitCode])).toEqual([
      ['pre-promote', true, 0],
      ['post-promote', true, 0],
    ]);
    const post = JSON.parse(readFileSync(join(repo, 'post.stdin.json'), 'utf8'));
    expect(post).toEqual(expect.objectContaining({ id: result.event.id, action: 'promote', model: 'fraud', version: v2.id, from: v1.id, to: v2.id, reason: 'better auc' }));
    expect(post.data).toMatchObject({ stage: 'production', number: 2, fromNumber: 1 });
    expect(post.argv).toEqual(['promote', v2.ref, '--to', 'production', '--reason', 'better auc', '--json']);
    const pre = JSON.parse(readFileSync(join(repo, 'pre.stdin.json'), 'utf8'));
    expect(pre.id).toBe(result.event.id);
    const env = readEnv(repo, 'post');
    expect(env).toMatchObject({
      MODELCTL_HOOK: 'post-promote',
      MODELCTL_ACTION: 'promote',
      MODELCTL_MODEL: 'fraud',
      MODELCTL_VERSION: v2.id,
      MODELCTL_NUMBER: '2',
      MODELCTL_REF: 'fraud@v2',
      MODELCTL_STAGE: 'production',
      MODELCTL_FROM: v1.id,
      MODELCTL_FROM_NUMBER: '1',
      MODELCTL_TO: v2.id,
      MODELCTL_REASON: 'better auc',
      MODELCTL_EVENT_ID: result.event.id,
      MODELCTL_REPO: repo,
    });
    expect(readEnv(repo, 'pre').MODELCTL_HOOK).toBe('pre-promote');
  });

  it('a failing pre-promote hook aborts with exit 5, shows its output, and moves nothing', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    installHook(repo, 'pre-promote', recordingHook('pre', 3, 'release freeze until Monday'));
    const r = runCli(repo, ['promote', v1.ref, '--to', 'staging', '--json']);
    expect(r.code).toBe(5);
    const err = r.error() as unknown as { code: string; data: { hook: string; exitCode: number; output: string } };
    expect(err.code).toBe('HOOK_REJECTED');
    expect(err.data).toMatchObject({ hook: 'pre-promote', exitCode: 3 });
    expect(err.data.output).toContain('release freeze until Monday');
    expect(err.data.output).toContain('release freeze until Monday (stderr)');
    const human = runCli(repo, ['promote', v1.ref, '--to', 'staging']);
    expect(human.code).toBe(5);
    expect(human.stderr).toContain('release freeze until Monday');
    expect(await stageHolder(repo, 'fraud', 'staging')).toBeNull();
    expect((await auditEvents(repo)).map((e) => e.action)).toEqual(['commit']);
  });

  it('a failing post-promote hook is reported as a warning and the move stands', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    installHook(repo, 'post-promote', recordingHook('post', 1, 'deploy service unreachable'));
    const r = runCli(repo, ['promote', v1.ref, '--to', 'staging', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().changed).toBe(true);
    expect(r.json().hooks[1]).toMatchObject({ hook: 'post-promote', ran: true, exitCode: 1 });
    expect(r.json().hooks[1].output).toContain('deploy service unreachable');
    expect(r.stderr).toContain('deploy service unreachable');
    expect(await stageHolder(repo, 'fraud', 'staging')).toBe(v1.id);
  });

  it('Ctrl-C while the post-promote hook runs: exit 130, and the message says the move stands (it does)', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    installHook(repo, 'post-promote', '#!/bin/sh\ncat >/dev/null\ntouch "$MODELCTL_REPO/hook-started"\nsleep 5\n');
    const child = spawn(process.execPath, [BIN, 'promote', v1.ref, '--to', 'staging'], { cwd: repo, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    for (let i = 0; i < 200 && !existsSync(join(repo, 'hook-started')); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('the promote stands: fraud@v1 holds staging');
    expect(stderr).not.toContain('nothing half-written');
    expect(await stageHolder(repo, 'fraud', 'staging')).toBe(v1.id);
  });

  it('rollbacks run the promote hooks with MODELCTL_ACTION=rollback; dry runs run none', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const v2 = await commitVersion(repo);
    runCli(repo, ['promote', v1.ref, '--to', 'staging']);
    runCli(repo, ['promote', v2.ref, '--to', 'staging']);
    installHook(repo, 'post-promote', recordingHook('post'));
    const dry = runCli(repo, ['rollback', 'fraud', '--stage', 'staging', '--dry-run', '--json']);
    expect(dry.json().hooks).toEqual([]);
    expect(runCli(repo, ['rollback', 'fraud', '--stage', 'staging']).code).toBe(0);
    expect(readEnv(repo, 'post')).toMatchObject({ MODELCTL_ACTION: 'rollback', MODELCTL_VERSION: v1.id, MODELCTL_FROM: v2.id });
    expect(JSON.parse(readFileSync(join(repo, 'post.stdin.json'), 'utf8')).action).toBe('rollback');
  });

  it('a failing pre-commit hook aborts the commit with exit 5', () => {
    const repo = lifecycleRepo();
    installHook(repo, 'pre-commit', recordingHook('pre-commit', 1, 'no model card'));
    writeFile(repo, 'model/w.bin', 'w');
    const r = runCli(repo, ['commit', 'fraud', 'model', '--json']);
    expect(r.code).toBe(5);
    expect((r.error() as unknown as { data: { output: string } }).data.output).toContain('no model card');
    expect(JSON.parse(readFileSync(join(repo, 'pre-commit.stdin.json'), 'utf8'))).toMatchObject({ action: 'commit', model: 'fraud' });
  });

  it('commit hooks get the actor, and post-commit the ref and the commit event id, as the README lists', async () => {
    const repo = lifecycleRepo();
    installHook(repo, 'pre-commit', recordingHook('pre-commit'));
    installHook(repo, 'post-commit', recordingHook('post-commit'));
    writeFile(repo, 'model/w.bin', 'w');
    const r = runCli(repo, ['commit', 'fraud', 'model', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const commitEvent = (await auditEvents(repo)).find((e) => e.action === 'commit')!;
    expect(readEnv(repo, 'pre-commit')).toMatchObject({ MODELCTL_ACTION: 'commit', MODELCTL_MODEL: 'fraud', MODELCTL_ACTOR: commitEvent.actor });
    expect(readEnv(repo, 'post-commit')).toMatchObject({
      MODELCTL_VERSION: r.json().version.id,
      MODELCTL_NUMBER: '1',
      MODELCTL_REF: 'fraud@v1',
      MODELCTL_ACTOR: commitEvent.actor,
      MODELCTL_EVENT_ID: commitEvent.id,
    });
  });
});

describe('templates/hooks samples', () => {
  it('are executable POSIX shell scripts with a documented contract', () => {
    const names = readdirSync(TEMPLATES).sort();
    expect(names).toEqual(expect.arrayContaining(['post-promote', 'pre-commit', 'pre-promote']));
    for (const n of names) {
      const p = join(TEMPLATES, n);
      expect(statSync(p).mode & 0o111, n).not.toBe(0);
      const text = readFileSync(p, 'utf8');
      expect(text.startsWith('#!/bin/sh\n'), n).toBe(true);
      expect(text, n).toContain('stdin');
      execFileSync('sh', ['-n', p]);
    }
  });

  it('post-promote posts the recorded event to the deploy webhook with curl', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const hook = join(repo, '.modelctl/hooks/post-promote');
    copyFileSync(join(TEMPLATES, 'post-promote'), hook);
    chmodSync(hook, 0o755);
    const received: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"queued"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/deploy`;
      const r = await runCliAsync(repo, ['promote', v1.ref, '--to', 'production', '--json'], {
        env: { MODELCTL_DEPLOY_WEBHOOK: url, MODELCTL_DEPLOY_TOKEN: 's3cret' },
      });
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result.hooks[1]).toMatchObject({ hook: 'post-promote', exitCode: 0 });
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ method: 'POST', url: '/deploy' });
      expect(received[0].headers['x-modelctl-event']).toBe(result.event.id);
      expect(received[0].headers.authorization).toBe('Bearer s3cret');
      expect(JSON.parse(received[0].body)).toMatchObject({ id: result.event.id, action: 'promote', version: v1.id, data: { stage: 'production' } });

      // Without a webhook configured the hook fails: a warning, and the move stands.
      const v2 = await commitVersion(repo);
      const noHook = await runCliAsync(repo, ['promote', v2.ref, '--to', 'production', '--json'], { env: { MODELCTL_DEPLOY_WEBHOOK: undefined } });
      expect(noHook.code).toBe(0);
      expect(JSON.parse(noHook.stdout).hooks[1].exitCode).not.toBe(0);
      expect(await stageHolder(repo, 'fraud', 'production')).toBe(v2.id);
    } finally {
      server.close();
    }
  });
});
