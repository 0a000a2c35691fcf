/**
 * The Node API as a user of the published package meets it: `npm pack`, `npm i <tgz>` into a
 * fresh TypeScript project, then `import { commit } from 'modelctl'` type-checked by tsc
 * --strict WITHOUT skipLibCheck (so every shipped .d.ts and the types it names must resolve:
 * before @types/better-sqlite3 was a dependency this failed with TS7016), and run.
 *
 * Like packaging.full.test.ts, the install skips install scripts and reuses this checkout's compiled
 * better-sqlite3 binary when the versions match (compiling SQLite tests SQLite, not this
 * package). In `npm run test:full`: an install and a tsc run take a while on 2 cores.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliEnv, tempDir } from '../helpers/temp-repo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

const versionOf = (dir: string): string | null => (existsSync(join(dir, 'package.json')) ? (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version : null);

const CONSUMER = `import { commit, init, log, ModelctlError, type CommitResult } from 'modelctl';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'modelctl-api-'));
await init({ cwd: dir });
writeFileSync(join(dir, 'w.bin'), 'weights');
const r: CommitResult = await commit({ cwd: dir, model: 'm', paths: ['w.bin'], message: 'from the API', metrics: ['acc=0.9'] });
const history = await log({ cwd: dir, model: 'm' });
let code = '';
try {
  await commit({ cwd: dir, model: 'Not A Name!', paths: ['w.bin'] });
} catch (e) {
  if (!(e instanceof ModelctlError)) throw e;
  code = e.code;
}
console.log(JSON.stringify({ created: r.created, ref: r.version.ref, versions: history.versions.length, code }));
rmSync(dir, { recursive: true, force: true });
`;

describe('the Node API from the packed tarball', () => {
  it("a strict TypeScript project imports { commit } from 'modelctl' with every .d.ts checked, and it runs", () => {
    const work = tempDir('modelctl-api-pack-');
    const tgzName = (JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as { filename: string }[])[0].filename;
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'api-consumer', private: true, type: 'module' }));
    // A Node TypeScript project has Node's types of its own (the version this checkout uses).
    const nodeTypes = versionOf(join(ROOT, 'node_modules', '@types', 'node'));
    npm(['install', '--prefer-offline', '--ignore-scripts', join(work, tgzName), `@types/node@${nodeTypes}`], project);
    const sqlite = join(project, 'node_modules', 'better-sqlite3');
    const local = join(ROOT, 'node_modules', 'better-sqlite3');
    const binary = join('build', 'Release', 'better_sqlite3.node');
    if (versionOf(sqlite) !== null && versionOf(sqlite) === versionOf(local) && existsSync(join(local, binary))) {
      mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
      copyFileSync(join(local, binary), join(sqlite, binary));
    } else {
      npm(['rebuild', 'better-sqlite3'], project);
    }

    writeFileSync(join(project, 'consumer.mts'), CONSUMER);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.mts'] }),
    );
    // The project's node_modules: what installing modelctl brought, and Node's types.
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);

    // Run it: the same code with its types removed.
    const esbuild = join(ROOT, 'node_modules', '.bin', 'esbuild');
    execFileSync(esbuild, [join(project, 'consumer.mts'), '--format=esm', `--outfile=${join(project, 'consumer.mjs')}`, '--log-level=warning']);
    const ran = spawnSync(process.execPath, [join(project, 'consumer.mjs')], { cwd: project, encoding: 'utf8', env: cliEnv({ CI: '1' }) });
    expect(ran.status, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout.trim().split('\n').pop() ?? '')).toEqual({ created: true, ref: 'm@v1', versions: 1, code: 'INVALID_MODEL_NAME' });
  }, 300_000);
});
