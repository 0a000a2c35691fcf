import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/api/verify.js';
import { BIN, cliEnv } from '../helpers/temp-repo.js';
import { HOSTILE_CASES, type Command } from './corpus.js';
import { Sandbox, buildTemplate, snapshot, snapshotDiff, type TemplateInfo } from './sandbox.js';

/** Runs the command without blocking the event loop (vitest's worker must stay responsive). */
function run(c: Command): Promise<{ code: number; stderr: string; stdout: string }> {
  const env = cliEnv({ CI: '1', NO_COLOR: '1' });
  const [file, args] = c.bash
    ? // Arguments that are not valid UTF-8 can only be written by a shell ($'\xff').
      ['/bin/bash', ['-c', `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${c.args.map((a) => (a.includes("$'") ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ')} --json`]]
    : [process.execPath, [BIN, ...c.args, '--json']];
  return new Promise((resolve) => {
    const child = spawn(file as string, args as string[], { cwd: c.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

describe('hostile input corpus', () => {
  let template: TemplateInfo;
  beforeAll(() => {
    template = buildTemplate();
  }, 120_000);
  afterAll(() => {
    if (template) rmSync(template.dir, { recursive: true, force: true });
  });

  it('has a row for every surface the issue names', () => {
    const surfaces = new Set(HOSTILE_CASES.map((c) => c.surface));
    for (const s of ['manifest', 'file-list', 'remote-doc', 'bundle', 'config', 'name', 'checkout-path', 'workspace']) expect(surfaces).toContain(s);
    expect(new Set(HOSTILE_CASES.map((c) => c.id)).size).toBe(HOSTILE_CASES.length);
  });

  for (const c of HOSTILE_CASES) {
    it(`${c.id}: ${c.attack} → exit ${c.expect.exit}${c.expect.code ? ` ${c.expect.code}` : ''}`, async () => {
      const s = new Sandbox(template);
      try {
        const command = c.arrange(s);
        const before = snapshot(s.root);
        const r = await run(command);
        const detail = `stderr: ${r.stderr.slice(0, 600)}`;
        expect(r.code, detail).toBe(c.expect.exit);
        if (c.expect.exit !== 0) {
          // One clear --json error document: the documented code, a message, never "a bug".
          const err = JSON.parse(r.stderr.trim().split('\n').pop() as string).error as { code: string; message: string; exitCode: number };
          expect(err.exitCode).toBe(c.expect.exit);
          if (c.expect.code) expect(err.code, detail).toBe(c.expect.code);
          expect(err.code).not.toBe('INTERNAL');
          expect(err.message.length).toBeGreaterThan(10);
          expect(r.stdout).toBe('');
        }
        // Nothing written outside the target: every path but modelctl's own folders and the
        // case's allowed target is as it was.
        expect(snapshotDiff(before, snapshot(s.root), c.allowed)).toEqual([]);
        // And the stores the attack met still verify (nothing half-written became visible);
        // a hostile settings file is put aside first, or opening the repository refuses it.
        if (c.surface === 'config') {
          for (const f of [join(s.repo, 'modelctl.json'), join(s.src, 'modelctl.json'), join(s.repo, '.modelctl', 'config.json')]) writeFileSync(f, '{}');
        }
        for (const repo of [s.repo, s.src]) {
          const v = await verify({ cwd: repo, env: cliEnv({ CI: '1' }) });
          expect(v.problems.filter((p) => p.kind !== 'unindexed-object' && p.kind !== 'unrecorded-manifest'), repo).toEqual([]);
        }
      } finally {
        s.dispose();
      }
    });
  }
});
