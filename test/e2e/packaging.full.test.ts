/**
 * The published package: `npm pack` holds what a user needs and nothing else, and the tarball
 * installs globally into a temporary prefix and runs (`--version`, `init`, `commit`, `card`, and
 * `serve` answering its built web UI).
 *
 * Speed: dependencies come from the npm cache (`--prefer-offline`). Compiling better-sqlite3
 * takes minutes on a small machine and tests SQLite's build, not this package, so by default
 * the install skips install scripts and reuses this checkout's compiled better-sqlite3 binary
 * when the installed version is the same. MODELCTL_PACK_TEST_FULL=1 runs the real install
 * scripts instead (as `npm i -g modelctl` does).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, writeFile } from '../helpers/temp-repo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

function versionOf(pkgDir: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

describe('npm package', () => {
  it('packs the CLI, the compiled code and the templates, and no tests, sources or data', () => {
    const out = tempDir();
    // --ignore-scripts: `npm test` built dist/ already, and prepack's clean rebuild would pull
    // dist/ from under test files running in parallel.
    const [info] = JSON.parse(npm(['pack', '--ignore-scripts', '--dry-run', '--json', '--pack-destination', out], ROOT)) as { files: { path: string }[] }[];
    const files = info.files.map((f) => f.path);
    for (const needed of ['bin/modelctl.js', 'package.json', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'templates/model-card.md', 'templates/modelctl.json', 'templates/github-actions.yml', 'templates/presets/default.json', 'dist/server/ui/index.html', 'dist/server/ui/app.js', 'dist/server/ui/vendor/uPlot.esm.js', 'dist/server/ui/vendor/cytoscape.esm.min.mjs', 'dist/server/ui/vendor/cytoscape-dagre.min.mjs', 'dist/server/ui/vendor/LICENSES.txt']) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((f) => /^(test|src|bench|node_modules|\.ci)\//.test(f) || f.endsWith('.map') || f.endsWith('.tgz'))).toEqual([]);
  });

  it('installs globally from the tarball and runs --version, init, commit, card and serve', async () => {
    const work = tempDir('modelctl-pack-');
    const tgzName = (JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as { filename: string }[])[0].filename;
    const tgz = join(work, tgzName);
    const prefix = join(work, 'prefix');
    const full = process.env.MODELCTL_PACK_TEST_FULL === '1';
    npm(['install', '-g', '--prefix', prefix, '--prefer-offline', ...(full ? [] : ['--ignore-scripts']), tgz], work);

    const installed = join(prefix, 'lib', 'node_modules', PKG.name);
    const sqlite = join(installed, 'node_modules', 'better-sqlite3');
    const binary = join('build', 'Release', 'better_sqlite3.node');
    if (!full) {
      const local = join(ROOT, 'node_modules', 'better-sqlite3');
      if (versionOf(sqlite) !== null && versionOf(sqlite) === versionOf(local) && existsSync(join(local, binary))) {
        mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
        copyFileSync(join(local, binary), join(sqlite, binary));
      } else {
        // Another version was resolved: build it for real (slow, but correct).
        npm(['rebuild', 'better-sqlite3'], installed);
      }
    }

    const bin = join(prefix, 'bin', 'modelctl');
    const env = { ...process.env, CI: '1', NO_COLOR: '1', PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const run = (args: string[], cwd: string) => {
      const r = spawnSync(bin, args, { cwd, encoding: 'utf8', env });
      expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    expect(run(['--version'], work).trim()).toBe(PKG.version);

    const project = join(work, 'project');
    mkdirSync(project);
    writeFile(project, 'model/weights.bin', Buffer.alloc(100_000, 3));
    writeFile(project, 'metrics.json', '{"accuracy": 0.91}');
    run(['init', '--yes', '--model', 'fraud', '--ci', 'github'], project);
    expect(existsSync(join(project, '.github/workflows/modelctl.yml'))).toBe(true);
    const committed = JSON.parse(run(['commit', 'fraud', '-m', 'first', '--json'], project)) as { created: boolean; version: { ref: string } };
    expect(committed.created).toBe(true);
    expect(committed.version.ref).toBe('fraud@v1');
    expect(run(['card', 'fraud'], project)).toMatch(/\| accuracy \| 0\.91 \|/);
    expect(run(['help', 'references'], project)).toMatch(/fraud@production/);

    // The web UI ships built: the installed serve answers its page and a vendored library.
    const served = spawn(bin, ['serve', '--port', '0', '--json'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        served.stdout.on('data', (b: Buffer) => {
          out += b.toString('utf8');
          try {
            resolve((JSON.parse(out) as { url: string }).url);
          } catch {
            /* not complete yet */
          }
        });
        served.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/app.js');
      expect((await fetch(new URL('vendor/cytoscape.esm.min.mjs', url))).status).toBe(200);
      expect(((await (await fetch(new URL('api/models', url))).json()) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual(['fraud']);
    } finally {
      const exited = served.exitCode === null ? new Promise((r) => served.once('exit', r)) : null;
      served.kill('SIGTERM');
      await exited;
    }
  }, 240_000);
});
