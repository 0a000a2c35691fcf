import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli } from '../helpers/temp-repo.js';
import { commitVersion, lifecycleRepo, runCliAsync, stageHolder, type AsyncRun } from './lifecycle-helpers.js';

// A pseudo-terminal is needed for the interactive cases; skip them where `script` cannot make one.
const hasScript = spawnSync('script', ['-qec', 'test -t 0', '/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'], input: '', timeout: 10_000 }).status === 0;

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `answer` when given. */
function runOnTty(cwd: string, args: string[], env: Record<string, string | undefined>, answer?: string, timeoutMs = 20_000): Promise<Omit<AsyncRun, 'json' | 'error'>> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(q).join(' ');
  const childEnv: NodeJS.ProcessEnv = cliEnv({ NO_COLOR: '1' });
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
      if (answer !== undefined && /\(y\/N\)/.test(stdout)) {
        child.stdin.write(answer);
        answer = undefined;
      }
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr: '', timedOut });
    });
  });
}

describe('confirmation before moving the last stage', () => {
  it('never prompts when stdin is not a TTY (CI unset, no --yes): proceeds without hanging', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const v2 = await commitVersion(repo);
    const noCi = { CI: undefined };
    const a = await runCliAsync(repo, ['promote', v1.ref, '--to', 'production'], { env: noCi, timeoutMs: 15_000 });
    expect(a.timedOut).toBe(false);
    expect(a.code, a.stderr).toBe(0);
    const b = await runCliAsync(repo, ['promote', v2.ref, '--to', 'production', '--json'], { env: noCi, timeoutMs: 15_000 });
    expect(b.code, b.stderr).toBe(0);
    const c = await runCliAsync(repo, ['rollback', 'fraud', '--stage', 'production'], { env: noCi, timeoutMs: 15_000 });
    expect(c.timedOut).toBe(false);
    expect(c.code, c.stderr).toBe(0);
    expect(await stageHolder(repo, 'fraud', 'production')).toBe(v1.id);
    // commit --stage production likewise.
    const d = runCli(repo, ['commit', 'fraud', 'models/fraud', '--stage', 'production', '--json'], { env: { CI: '' } });
    expect(d.code, d.stderr).toBe(0);
  });

  it.skipIf(!hasScript)('on a TTY it asks; "n" aborts with exit 4 and changes nothing, "y" moves', async () => {
    const repo = lifecycleRepo();
    const v1 = await commitVersion(repo);
    const no = await runOnTty(repo, ['promote', v1.ref, '--to', 'production'], { CI: undefined }, 'n\r');
    expect(no.timedOut).toBe(false);
    expect(no.stdout).toContain('(y/N)');
    expect(no.code).toBe(4);
    expect(await stageHolder(repo, 'fraud', 'production')).toBeNull();
    const yes = await runOnTty(repo, ['promote', v1.ref, '--to', 'production'], { CI: undefined }, 'y\r');
    expect(yes.code).toBe(0);
    expect(await stageHolder(repo, 'fraud', 'production')).toBe(v1.id);
  });

  it.skipIf(!hasScript)('on a TTY: no question for a non-last stage, with --yes, with --json, or with CI set', async () => {
    const repo = lifecycleRepo();
    const v = [await commitVersion(repo), await commitVersion(repo), await commitVersion(repo), await commitVersion(repo)];
    const cases: [string[], Record<string, string | undefined>][] = [
      [['promote', v[0].ref, '--to', 'staging'], { CI: undefined }],
      [['promote', v[1].ref, '--to', 'production', '--yes'], { CI: undefined }],
      [['promote', v[2].ref, '--to', 'production', '--json'], { CI: undefined }],
      [['promote', v[3].ref, '--to', 'production'], { CI: 'true' }],
    ];
    for (const [args, env] of cases) {
      const r = await runOnTty(repo, args, env, undefined, 15_000);
      expect(r.timedOut, args.join(' ')).toBe(false);
      expect(r.stdout, args.join(' ')).not.toContain('(y/N)');
      expect(r.code, args.join(' ')).toBe(0);
    }
    expect(await stageHolder(repo, 'fraud', 'production')).toBe(v[3].id);
  });
});
