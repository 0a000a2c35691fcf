/** Helpers shared by test/e2e/startup.test.ts and its *.full.test.ts sibling. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cliEnv, tempDir } from './temp-repo.js';

/**
 * Runs the built CLI with a preloaded module that records, at exit, whether zod was
 * evaluated in the process (zod 4 keeps its global configuration on globalThis).
 */
export function runWatchingZod(cwd: string, args: string[]): { code: number; zodLoaded: boolean; stderr: string } {
  const marker = join(tempDir('modelctl-zod-'), 'zod');
  const hook = `import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(${JSON.stringify(marker)}, String('__zod_globalConfig' in globalThis)));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: cliEnv({ CI: '1', NO_COLOR: '1' }),
  });
  return { code: r.status ?? 128, zodLoaded: readFileSync(marker, 'utf8') === 'true', stderr: r.stderr };
}
