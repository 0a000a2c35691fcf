import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './temp-repo.js';

/**
 * The test side of src/store/test-barrier.ts: arm named points, wait until a process
 * reaches one, let it go. Pass `env` to the processes that should stop.
 */
export class Barriers {
  readonly dir = tempDir('modelctl-barriers-');
  readonly env = { MODELCTL_TEST_BARRIER_DIR: this.dir };

  /** Makes processes stop at `name`. */
  arm(...names: string[]): void {
    for (const n of names) writeFileSync(join(this.dir, `${n}.wait`), '');
  }

  /** Resolves once a process stopped at `name`; rejects after `timeoutMs`. */
  async reached(name: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(join(this.dir, `${name}.reached`))) {
      if (Date.now() > deadline) throw new Error(`no process reached barrier '${name}' within ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  /**
   * The pid of the process stopped at `name` (after reached()). Checked to be a real pid:
   * process.kill(0) or kill(-1) would signal the test runner itself.
   */
  pid(name: string): number {
    const text = readFileSync(join(this.dir, `${name}.reached`), 'utf8');
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`barrier '${name}' holds no pid ('${text}')`);
    return pid;
  }

  /** Lets processes stopped at `name` (and later ones) go on. */
  release(name: string): void {
    writeFileSync(join(this.dir, `${name}.go`), '');
  }
}

const require = createRequire(import.meta.url);

/**
 * A third process holding the index's write lock (`BEGIN IMMEDIATE`, as `sqlite3 index.db`
 * would), so commands queue behind it; `release()` commits and ends it.
 */
export async function holdIndexLock(dbPath: string): Promise<{ release(): Promise<void> }> {
  const script = `
    const Db = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Db(${JSON.stringify(dbPath)});
    db.pragma('busy_timeout = 30000');
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return {
    release: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.write('go\n');
      }),
  };
}
