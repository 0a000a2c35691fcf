import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashFileSync } from '../../src/store/hash-file.js';
import { commitIn, fetchIn, promoteIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { BIN, cliEnv, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('messages that fit', () => {
  it('verify and gc both name the grace period that keeps a fresh unindexed object', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    await commitIn(repo, 'm', ['model'], 'w'); // arranged through the Node API (setup-api.ts)
    // A valid object no index row knows (as a killed commit leaves it).
    const loose = join(tempDir('modelctl-loose-'), 'x');
    writeFileSync(loose, 'left by a killed commit');
    const { digest } = hashFileSync(loose);
    mkdirSync(join(repo, '.modelctl/objects', digest.slice(0, 2)), { recursive: true });
    copyFileSync(loose, join(repo, '.modelctl/objects', digest.slice(0, 2), digest.slice(2)));

    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(0);
    const problem = v.json().problems.find((p: { kind: string }) => p.kind === 'unindexed-object');
    expect(problem.detail).toMatch(/grace period of 15 minutes/);
    const gc = runCli(repo, ['gc', '--json']);
    expect(gc.json()).toMatchObject({ keptInGrace: 1, graceSeconds: 900, deleted: [] });
    expect(runCli(repo, ['gc']).stdout).toMatch(/younger than the grace period of 15 minutes/);
    const now = runCli(repo, ['gc', '--json'], { env: { MODELCTL_GC_GRACE_SECONDS: '0' } });
    expect(now.json().deleted.map((d: { digest: string }) => d.digest)).toEqual([digest]);
  });

  it('counts are singular for one: "1 object", "1 manifest"', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    await commitIn(repo, 'm', ['model'], 'w'); // arranged through the Node API (setup-api.ts)
    expect(runCli(repo, ['verify']).stdout).toMatch(/^Checked 1 object \(.*\) and 1 manifest:/);
  });

  it('fetch prints a line only for models that changed, then a summary line', async () => {
    const a = tempRepo();
    const registry = join(tempDir(), 'registry');
    mkdirSync(registry);
    writeFile(a, 'one/w.bin', '1');
    writeFile(a, 'two/w.bin', '2');
    // Arranged through the Node API (setup-api.ts); the fetches whose output is checked run through the CLI.
    await commitIn(a, 'one', ['one'], 'one');
    await commitIn(a, 'two', ['two'], 'two');
    await remoteAddIn(a, 'origin', registry, { default: true });
    await pushIn(a);
    const b = tempRepo();
    await remoteAddIn(b, 'origin', registry, { default: true });
    await fetchIn(b);

    writeFile(a, 'one/w.bin', '1b');
    await commitIn(a, 'one', ['one'], 'one b');
    await pushIn(a);
    const out = runCli(b, ['fetch']).stdout.trim().split('\n');
    expect(out[0]).toMatch(/^one: 1 new version, 1 event$/);
    expect(out.some((l) => l.startsWith('two:'))).toBe(false);
    expect(out[out.length - 1]).toBe('1 other model up to date');
    const again = runCli(b, ['fetch']).stdout.trim().split('\n');
    expect(again).toHaveLength(1);
    expect(again[0]).toMatch(/^Up to date with .*: nothing new for 2 models$/);
  });
});

describe('references that nearly work', () => {
  /** Arranged through the Node API (setup-api.ts). */
  async function fiveVersions(): Promise<string> {
    const repo = tempRepo();
    for (let i = 1; i <= 5; i++) {
      writeFile(repo, 'model/w.bin', `w${i}`);
      await commitIn(repo, 'pose', ['model'], `w${i}`);
    }
    return repo;
  }

  it('pose:v3 suggests pose@v3 (exit 2)', async () => {
    const repo = await fiveVersions();
    const r = runCli(repo, ['show', 'pose:v3', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().message).toMatch(/did you mean pose@v3\?/);
  });

  it('pose@v9 suggests the nearest version (v5, the latest), not look-alike names', async () => {
    const repo = await fiveVersions();
    const r = runCli(repo, ['show', 'pose@v9', '--json']);
    expect(r.code).toBe(3);
    const err = JSON.parse(r.stderr.trim().split('\n').pop() as string).error;
    expect(err.data.candidates).toEqual(['pose@v5']);
    expect(err.message).toMatch(/v1–v5/);
    expect(err.message).toMatch(/latest/);
  });

  it('a short hex prefix says ids need 7 or more hex digits', async () => {
    const repo = await fiveVersions();
    const id: string = runCli(repo, ['show', 'pose@v2', '--json']).json().version.id;
    const r = runCli(repo, ['show', `pose@${id.slice(0, 5)}`, '--json']);
    expect(r.code).toBe(3);
    const err = JSON.parse(r.stderr.trim().split('\n').pop() as string).error;
    expect(err.message).toMatch(/7 or more hex digits/);
    expect(err.data.candidates).toEqual([`pose@${id.slice(0, 12)}`]);
  });

  it('a configured stage nothing was promoted to says so, with the fix, in show, checkout and diff alike', async () => {
    const repo = await fiveVersions();
    for (const args of [['show', 'pose@production'], ['checkout', 'pose@production'], ['diff', 'pose@v1', 'pose@staging']]) {
      const r = runCli(repo, [...args, '--json']);
      expect(r.code, args.join(' ')).toBe(3);
      const err = r.error();
      expect(err.code).toBe('UNKNOWN_REF');
      expect(err.message).toMatch(/^no version of pose is in stage '(production|staging)' yet$/);
      expect(err.hint).toMatch(/modelctl promote pose@<version> --to (production|staging)/);
      expect(err.hint).toMatch(/modelctl fetch/);
      expect(err.data.emptyStage).toMatch(/^(production|staging)$/);
    }
    // A name that is no stage is still an unknown reference with candidates.
    expect(runCli(repo, ['show', 'pose@prodution', '--json']).error().message).toMatch(/^unknown reference 'pose@prodution'/);
    // Once promoted, the stage resolves.
    expect(runCli(repo, ['promote', 'pose@v2', '--to', 'staging']).code).toBe(0);
    expect(runCli(repo, ['show', 'pose@staging', '--json']).json().version.number).toBe(2);
  });

  // Found in a first-hour walk: `fraud@prodution` listed no candidate until some version
  // held production, as only held stages were offered.
  it('a misspelt stage suggests the configured stage, held or not', async () => {
    const repo = await fiveVersions();
    const r = runCli(repo, ['show', 'pose@prodution', '--json']);
    expect(r.code).toBe(3);
    expect(r.error().data.candidates).toContain('pose@production');
    expect(r.error().message).toMatch(/closest: pose@production/);
  });

  // Found in a first-hour walk: an id copied in capitals (`pose@CBC93A1`) was an unknown
  // reference with no candidate; git reads hex ids in either case.
  it('an id prefix in capitals resolves, as git reads one', async () => {
    const repo = await fiveVersions();
    const id: string = runCli(repo, ['show', 'pose@v2', '--json']).json().version.id;
    const r = runCli(repo, ['show', `pose@${id.slice(0, 10).toUpperCase()}`, '--json']);
    expect(r.code).toBe(0);
    expect(r.json().version.id).toBe(id);
    // A tag spelt in capitals that is also hex is still the tag (tags are tried first).
    expect(runCli(repo, ['tag', 'pose@v4', 'CAFE123']).code).toBe(0);
    expect(runCli(repo, ['show', 'pose@CAFE123', '--json']).json().version.number).toBe(4);
  });
});

describe('params and metrics files named in modelctl.json', () => {
  it('a missing or unparseable one is reported as modelctl.json\'s model entry, not as a flag', () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ models: { fraud: { paths: ['model/'], metrics: 'metrics.json', params: 'params.yaml' } } }));
    writeFile(repo, 'params.yaml', 'lr: 0.1\n');
    const missing = runCli(repo, ['commit', 'fraud', '--json']);
    expect(missing.code).toBe(3);
    expect(missing.error().message).toMatch(/metrics\.json' named in modelctl\.json \(models\.fraud\.metrics\)/);
    expect(missing.error().message).not.toMatch(/--metrics/);
    writeFile(repo, 'metrics.json', '{"auc": ');
    const broken = runCli(repo, ['commit', 'fraud', '--json']);
    expect(broken.code).toBe(2);
    expect(broken.error().message).toMatch(/named in modelctl\.json \(models\.fraud\.metrics\) cannot be parsed/);
    // Given by flag, it is named as the flag.
    const flag = runCli(repo, ['commit', 'fraud', '--metrics', 'nope.json', '--json']);
    expect(flag.code).toBe(3);
    expect(flag.error().message).toMatch(/^--metrics file 'nope\.json'/);
  });
});

describe('init in a clone', () => {
  it('init --yes where modelctl.json already declares a model suggests committing that model', () => {
    const d = tempDir();
    writeFileSync(join(d, 'modelctl.json'), JSON.stringify({ models: { pose: { paths: ['model/'] } }, stages: ['dev', 'prod'] }));
    const r = runCli(d, ['init', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('modelctl commit pose');
    expect(r.stdout).not.toContain('<model>');
    expect(r.stdout).toContain('--to dev');
  });
});

describe('rollback with no earlier holder', () => {
  it('suggests only a version the stage policy would take', async () => {
    const repo = tempRepo();
    writeFileSync(
      join(repo, 'modelctl.json'),
      JSON.stringify({ stages: ['staging', 'production'], policies: { production: { metrics: { auc: '>= 0.9' } } } }),
    );
    // Arranged through the Node API (setup-api.ts).
    for (const [i, auc] of [[1, 0.95], [2, 0.5], [3, 0.97]] as const) {
      writeFile(repo, 'model/w.bin', `w${i}`);
      await commitIn(repo, 'm', ['model'], `w${i}`, { metrics: [`auc=${auc}`] });
    }
    await promoteIn(repo, 'm@v3', 'production');
    const r = runCli(repo, ['rollback', 'm', '--stage', 'production', '--json']);
    expect(r.code).toBe(3);
    const err = JSON.parse(r.stderr.trim().split('\n').pop() as string).error;
    expect(err.code).toBe('NO_PREVIOUS_HOLDER');
    // v2 (auc 0.5) would be refused; v1 is the newest version the gate takes.
    expect(err.data.suggestion).toBe('m@v1');
    expect(err.hint).toContain('--to m@v1');
    expect(runCli(repo, ['rollback', 'm', '--stage', 'production', '--to', 'm@v1']).code).toBe(0);
  });

  // Found following the README's quick start: with one version and no policy, the hint said
  // "no other version of fraud meets the 'production' policy".
  it('with no other version, says so instead of blaming a policy', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    await commitIn(repo, 'm', ['model'], 'w'); // arranged through the Node API (setup-api.ts)
    await promoteIn(repo, 'm@v1', 'production');
    const err = runCli(repo, ['rollback', 'm', '--stage', 'production', '--json']).error();
    expect(err.code).toBe('NO_PREVIOUS_HOLDER');
    expect(err.data.suggestion).toBeNull();
    expect(err.hint).not.toMatch(/policy/);
    expect(err.hint).toMatch(/only version/);
  });
});

describe('a busy index', () => {
  it('is not blamed on another modelctl process: any program holding index.db may be the cause', async () => {
    const { mapSqliteError } = await import('../../src/store/index-db.js');
    const err = mapSqliteError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), 'index.db') as { code: string; exitCode: number; message: string; hint: string };
    expect(err.code).toBe('INDEX_LOCKED');
    expect(err.exitCode).toBe(4);
    expect(err.message).not.toMatch(/modelctl process/);
    expect(err.hint).toMatch(/sqlite3/);
  });
});

describe('a reader that stops reading', () => {
  /** Runs modelctl with its stdout a pipe whose reading end is closed before anything is written (as `| head -1` does once it has its line). */
  function withClosedStdout(cwd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: cliEnv({ NO_COLOR: '1' }) });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('ends modelctl quietly with 141 (as SIGPIPE ends git), never a stack trace, never 0', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    await commitIn(repo, 'm', ['model'], 'w'); // arranged through the Node API (setup-api.ts)
    for (const args of [['log', 'm'], ['ls'], ['show', 'm', '--json']]) {
      const r = await withClosedStdout(repo, args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(141);
    }
    // The closed reader changed nothing: the repository is as it was.
    expect(runCli(repo, ['verify']).code).toBe(0);
  });
});
