import { spawn } from 'node:child_process';

/**
 * Runs `git <args>` in `dir` and resolves with its stdout, trimmed (as simple-git's
 * `raw` with `trimmed: true` gave it, so recorded lineage keeps its values) unless `raw`
 * (NUL-separated output, whose first field may start with a space). Rejects when git
 * cannot be started, exits non-zero or is killed by a signal.
 *
 * Why not simple-git here: it is 170 KB to load, and it waits 50 ms after every process exits
 * (more when the process printed nothing, as `git status` of a clean tree does), on a timer
 * that keeps the process alive: ~35 ms of every commit (README, Performance). This resolves
 * when git's pipes close, which is when its output is complete.
 */
export function runGit(dir: string, args: readonly string[], opts: { raw?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        const text = Buffer.concat(out).toString('utf8');
        resolve(opts.raw ? text : text.trim());
      }
      else reject(new Error(`git ${args[0]} ended with ${signal ?? `exit ${code}`}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
  });
}
