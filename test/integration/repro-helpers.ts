import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init } from '../../src/api/init.js';
import { runCli, tempDir, writeFile, type CliRun } from '../helpers/temp-repo.js';

/** The tiny training job of the reproducibility tests (see test/fixtures/repro/SOURCES.md). */
export const TRAIN_SCRIPT = fileURLToPath(new URL('../fixtures/repro/train.js', import.meta.url));

/** Runs git in `cwd`; throws with its output when it fails. */
export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** Training rows y ≈ 2x + 1 (a fixed pseudo-random noise), as CSV with a header. */
export function trainingData(rows = 64, slope = 2): string {
  const lines = ['x,y'];
  for (let i = 0; i < rows; i++) {
    const x = i / rows;
    const noise = (((i * 2654435761) >>> 0) % 1000) / 1e5;
    lines.push(`${x},${slope * x + 1 + noise}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A git repository with the training job committed and a modelctl repository declaring model
 * `tiny` (outputs `model/`, params.json, metrics.json, data/train.csv). Outputs, logs, metrics
 * and data are git-ignored, as in a real training repository. Returns the modelctl root.
 */
export function trainingRepo(opts: { lock?: boolean; settings?: Record<string, unknown>; subdir?: string } = {}): string {
  const top = tempDir('modelctl-repro-');
  git(top, 'init', '-q', '-b', 'main');
  git(top, 'config', 'user.email', 'trainer@example.com');
  git(top, 'config', 'user.name', 'Trainer');
  // With `subdir` the modelctl repository is a folder of the git work tree (a monorepo).
  const root = opts.subdir ? join(top, opts.subdir) : top;
  mkdirSync(root, { recursive: true });
  copyFileSync(TRAIN_SCRIPT, join(root, 'train.js'));
  writeFile(root, 'params.json', `${JSON.stringify({ lr: 0.05, epochs: 40 })}\n`);
  writeFile(root, 'data/train.csv', trainingData());
  writeFile(root, '.gitignore', 'model/\nlogs/\nmetrics.json\ndata/\n');
  const settings = {
    models: { tiny: { paths: ['model/'], params: 'params.json', metrics: 'metrics.json', data: ['data/train.csv'] } },
    ...(opts.lock ? { lock: true } : {}),
    ...opts.settings,
  };
  writeFile(root, 'modelctl.json', `${JSON.stringify(settings, null, 2)}\n`);
  init({ cwd: root });
  git(top, 'add', '-A');
  git(top, 'commit', '-q', '-m', 'training job');
  return root;
}

/** `modelctl <command> --json <args…>` in `cwd`. */
export function mc(cwd: string, ...args: string[]): CliRun {
  // Right after the command name: words after `--` belong to the command `run` starts.
  return runCli(cwd, [args[0], '--json', ...args.slice(1)]);
}

/** Edits modelctl.json in place. */
export function editSettings(root: string, change: (s: Record<string, unknown>) => void): void {
  const path = join(root, 'modelctl.json');
  const s = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(s);
  writeFileSync(path, `${JSON.stringify(s, null, 2)}\n`);
}
