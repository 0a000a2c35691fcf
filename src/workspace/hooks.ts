import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { PolicyError } from '../errors.js';

export type HookName = 'pre-commit' | 'post-commit' | 'pre-promote' | 'post-promote';

/** What running a hook gave. `ran` is false when no executable hook exists. */
export interface HookOutcome {
  hook: HookName;
  ran: boolean;
  exitCode: number | null;
  output: string;
}

const HOOK_TIMEOUT_MS = 10 * 60 * 1000;
const MAX_OUTPUT = 64 * 1024;

/**
 * Runs `.modelctl/hooks/<name>` if it exists and is executable, with `event` as JSON on
 * stdin and MODELCTL_* variables (MODELCTL_HOOK, MODELCTL_ACTION, MODELCTL_MODEL,
 * MODELCTL_VERSION, MODELCTL_NUMBER, MODELCTL_STAGE, MODELCTL_REPO…) in its environment.
 * Its stdout and stderr are captured (capped) for the caller to show.
 */
export async function runHook(metaDir: string, root: string, hook: HookName, event: Record<string, unknown>, vars: Record<string, string | number | null | undefined>): Promise<HookOutcome> {
  const path = join(metaDir, 'hooks', hook);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { hook, ran: false, exitCode: null, output: '' };
  }
  const env: NodeJS.ProcessEnv = { ...process.env, MODELCTL_HOOK: hook, MODELCTL_REPO: root };
  for (const [k, v] of Object.entries(vars)) if (v !== null && v !== undefined) env[`MODELCTL_${k.toUpperCase()}`] = String(v);
  return new Promise((resolvePromise) => {
    const child = spawn(path, [], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const collect = (b: Buffer) => {
      if (output.length < MAX_OUTPUT) output += b.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), HOOK_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolvePromise({ hook, ran: true, exitCode: 127, output: `${output}${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ hook, ran: true, exitCode: code ?? (signal ? 128 : 1), output: output.slice(0, MAX_OUTPUT) });
    });
    child.stdin.on('error', () => {
      /* the hook need not read its stdin */
    });
    child.stdin.end(`${JSON.stringify(event)}\n`);
  });
}

/** Throws PolicyError (exit 5) with the hook's output when a pre-* hook failed. */
export function assertPreHookPassed(outcome: HookOutcome): void {
  if (outcome.ran && outcome.exitCode !== 0) {
    throw new PolicyError('HOOK_REJECTED', `${outcome.hook} hook failed (exit ${outcome.exitCode})${outcome.output ? `:\n${outcome.output.trimEnd()}` : ''}`, {
      hint: `fix what the hook reports, or inspect .modelctl/hooks/${outcome.hook}`,
      data: { hook: outcome.hook, exitCode: outcome.exitCode, output: outcome.output },
    });
  }
}
