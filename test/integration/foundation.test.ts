import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

function commitSample(repo: string, extra: string[] = []) {
  writeFile(repo, 'model/weights.bin', pseudoRandomBytes(3 * 1024 * 1024 + 17, 1));
  writeFile(repo, 'model/config.json', '{"layers": 4}');
  writeFile(repo, 'params.yaml', 'lr: 0.001\nepochs: 10\noptimizer:\n  name: adam\n  betas: [0.9, 0.999]\n');
  writeFile(repo, 'metrics.json', '{"accuracy": 0.93, "loss": 0.21}');
  writeFile(repo, 'data/train.csv', 'a,b\n1,2\n');
  return runCli(repo, ['commit', 'fraud', 'model', '--params', 'params.yaml', '--metrics', 'metrics.json', '--data', 'data/train.csv', '-m', 'first', '--json', ...extra]);
}

describe('init', () => {
  it('creates the store, index and modelctl.json, and is idempotent', () => {
    const d = tempDir();
    const r = runCli(d, ['init', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().created).toBe(true);
    expect(existsSync(join(d, '.modelctl', 'index.db'))).toBe(true);
    expect(JSON.parse(readFileSync(join(d, 'modelctl.json'), 'utf8')).stages).toEqual(['staging', 'production']);
    const again = runCli(d, ['init', '--yes', '--json']);
    expect(again.code).toBe(0);
    expect(again.json().created).toBe(false);
  });
  it('commands outside a repository exit 3', () => {
    const d = tempDir();
    const r = runCli(d, ['log', 'fraud', '--json']);
    expect(r.code).toBe(3);
    expect(r.error().code).toBe('NOT_A_REPOSITORY');
  });
});

describe('commit', () => {
  it('records files, typed params from YAML, metrics, data inputs', () => {
    const repo = tempRepo();
    const r = commitSample(repo);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out.created).toBe(true);
    expect(out.version.number).toBe(1);
    expect(out.version.fileCount).toBe(2);
    const show = runCli(repo, ['show', 'fraud@v1', '--json']).json();
    expect(show.lineage.params).toEqual({ lr: 0.001, epochs: 10, 'optimizer.name': 'adam', 'optimizer.betas': [0.9, 0.999] });
    expect(show.lineage.metrics).toEqual({ accuracy: 0.93, loss: 0.21 });
    expect(show.lineage.data).toHaveLength(1);
    expect(show.lineage.data[0]).toMatchObject({ kind: 'file', source: 'data/train.csv', size: 8 });
    expect(show.lineage.data[0].digest).toMatch(/^[0-9a-f]{64}$/);
    expect(show.files.map((f: { path: string }) => f.path)).toEqual(['model/config.json', 'model/weights.bin']);
    expect(show.events.map((e: { action: string }) => e.action)).toEqual(['commit']);
  });

  it('identical content and lineage creates nothing and says so', () => {
    const repo = tempRepo();
    expect(commitSample(repo).code).toBe(0);
    const again = commitSample(repo);
    expect(again.code).toBe(0);
    expect(again.json().created).toBe(false);
    expect(runCli(repo, ['log', 'fraud', '--json']).json().versions).toHaveLength(1);
    const human = runCli(repo, ['commit', 'fraud', 'model', '--params', 'params.yaml', '--metrics', 'metrics.json', '--data', 'data/train.csv']);
    expect(human.stdout).toMatch(/nothing to commit/i);
  });

  it('--param and --metric keep their types; a changed file makes v2', () => {
    const repo = tempRepo();
    writeFile(repo, 'm/w.bin', 'one');
    expect(runCli(repo, ['commit', 'fraud', 'm', '--param', 'lr=0.5', '--param', 'name=x', '--param', 'aug=false', '--metric', 'acc=0.9']).code).toBe(0);
    writeFile(repo, 'm/w.bin', 'two');
    const v2 = runCli(repo, ['commit', 'fraud', 'm', '--json']);
    expect(v2.json().version.number).toBe(2);
    const show = runCli(repo, ['show', 'fraud@v1', '--json']).json();
    expect(show.lineage.params).toEqual({ lr: 0.5, name: 'x', aug: false });
    expect(show.lineage.metrics).toEqual({ acc: 0.9 });
  });

  it('takes globs and default paths from modelctl.json', () => {
    const repo = tempRepo();
    writeFile(repo, 'out/a.safetensors', 'A');
    writeFile(repo, 'out/b.safetensors', 'B');
    writeFile(repo, 'out/notes.txt', 'N');
    const g = runCli(repo, ['commit', 'glob', 'out/*.safetensors', '--json']);
    expect(g.code).toBe(0);
    expect(g.json().files.map((f: { path: string }) => f.path)).toEqual(['out/a.safetensors', 'out/b.safetensors']);
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ models: { cfg: { paths: ['out/**/*.txt'] } } }));
    const c = runCli(repo, ['commit', 'cfg', '--json']);
    expect(c.code).toBe(0);
    expect(c.json().files.map((f: { path: string }) => f.path)).toEqual(['out/notes.txt']);
  });

  it('records a parent and a tag', async () => {
    const repo = tempRepo();
    writeFile(repo, 'base/w', 'base');
    await commitIn(repo, 'base', ['base'], 'base'); // the parent, arranged through the Node API (setup-api.ts)
    writeFile(repo, 'ft/w', 'ft');
    const r = runCli(repo, ['commit', 'team/ft', 'ft', '--parent', 'base@v1', '--tag', '0.1.0', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().version.tags).toEqual(['0.1.0']);
    const show = runCli(repo, ['show', 'team/ft@0.1.0', '--json']).json();
    expect(show.lineage.parent.model).toBe('base');
  });

  it('bad input gets the documented exit code and changes nothing', () => {
    const repo = tempRepo();
    writeFile(repo, 'm/w', 'x');
    const outside = tempDir();
    writeFile(outside, 'elsewhere.bin', 'x');
    writeFile(repo, 'bad.json', '{"lr": ');
    writeFile(repo, 'list.yaml', '- 1\n- 2\n');
    const cases: [string[], number][] = [
      [['commit', 'Fraud', 'm'], 2],
      [['commit', 'fraud', join(outside, 'elsewhere.bin')], 2],
      [['commit', 'fraud', '../x'], 2],
      [['commit', 'fraud', 'nope.bin'], 3],
      [['commit', 'fraud', 'nomatch/*.bin'], 3],
      [['commit', 'fraud', 'm', '--params', 'bad.json'], 2],
      [['commit', 'fraud', 'm', '--metrics', 'list.yaml'], 2],
      [['commit', 'fraud', 'm', '--params', 'missing.yaml'], 3],
      [['commit', 'fraud', 'm', '--param', 'novalue'], 2],
      [['commit', 'fraud', 'm', '--tag', 'v3'], 2],
      [['commit', 'fraud', 'm', '--tag', 'production'], 2],
      [['commit', 'fraud', 'm', '--parent', 'nosuch@v1'], 3],
      [['commit', 'fraud', 'm', '--data', 'missing-data'], 3],
      [['commit', 'fraud'], 2],
      [['commit', 'fraud', '.modelctl/index.db'], 2],
    ];
    for (const [args, code] of cases) {
      const r = runCli(repo, [...args, '--json']);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.error().exitCode, args.join(' ')).toBe(code);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect(runCli(repo, ['ls', '--json']).json().models).toEqual([]);
  });

  it('an unreadable file is reported and nothing is recorded', () => {
    if (process.getuid?.() === 0) return; // root reads everything; the check is meaningless
    const repo = tempRepo();
    const p = writeFile(repo, 'm/w', 'x');
    chmodSync(p, 0o000);
    expect(runCli(repo, ['commit', 'fraud', 'm']).code).toBe(3);
  });
});

describe('references', () => {
  it('resolves latest, numbers, tags and id prefixes; unknown → 3 with candidates', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/w', '1');
    const v1 = runCli(repo, ['commit', 'fraud', 'm', '--tag', 'baseline', '--json']).json().version;
    writeFile(repo, 'm/w', '2');
    await commitIn(repo, 'fraud', ['m'], '2'); // arranged through the Node API (setup-api.ts)
    expect(runCli(repo, ['show', 'fraud', '--json']).json().version.number).toBe(2);
    expect(runCli(repo, ['show', 'fraud@v1', '--json']).json().version.id).toBe(v1.id);
    expect(runCli(repo, ['show', 'fraud@baseline', '--json']).json().version.id).toBe(v1.id);
    expect(runCli(repo, ['show', `fraud@${v1.id.slice(0, 7)}`, '--json']).json().version.id).toBe(v1.id);
    const unknown = runCli(repo, ['show', 'fraud@baselin', '--json']);
    expect(unknown.code).toBe(3);
    expect(unknown.error().code).toBe('UNKNOWN_REF');
    expect(unknown.error().message).toContain('fraud@baseline');
    const model = runCli(repo, ['show', 'frau', '--json']);
    expect(model.code).toBe(3);
    expect(model.error().message).toContain('fraud');
    expect(runCli(repo, ['show', 'fraud@v9']).code).toBe(3);
  });
});

describe('status', () => {
  it('reports modified, new and deleted files against the latest version', async () => {
    const repo = tempRepo();
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ models: { fraud: { paths: ['model'] } } }));
    writeFile(repo, 'model/a', 'a');
    writeFile(repo, 'model/b', 'b');
    await commitIn(repo, 'fraud', [], 'a and b'); // its paths from modelctl.json; arranged through the Node API (setup-api.ts)
    let s = runCli(repo, ['status', '--json']).json();
    expect(s.clean).toBe(true);
    writeFile(repo, 'model/a', 'changed');
    writeFile(repo, 'model/c', 'new');
    unlinkSync(join(repo, 'model/b'));
    s = runCli(repo, ['status', 'fraud', '--json']).json();
    expect(s.clean).toBe(false);
    expect(s.models[0].modified.map((f: { path: string }) => f.path)).toEqual(['model/a']);
    expect(s.models[0].added.map((f: { path: string }) => f.path)).toEqual(['model/c']);
    expect(s.models[0].deleted.map((f: { path: string }) => f.path)).toEqual(['model/b']);
    expect(runCli(repo, ['status', 'nosuch']).code).toBe(3);
  });
});

describe('checkout', () => {
  it('writes byte-identical files into --out with every link mode', () => {
    const repo = tempRepo();
    expect(commitSample(repo).code).toBe(0);
    for (const link of ['auto', 'copy', 'hardlink']) {
      const out = join(repo, `out-${link}`);
      const r = runCli(repo, ['checkout', 'fraud@v1', '--out', out, '--link', link, '--json']);
      expect(r.code, link).toBe(0);
      expect(readFileSync(join(out, 'model/weights.bin')).equals(readFileSync(join(repo, 'model/weights.bin')))).toBe(true);
    }
    expect(runCli(repo, ['checkout', 'fraud@v1', '--link', 'bogus']).code).toBe(2);
  });

  it('restores v1 over unchanged files, refuses local changes without --force', async () => {
    const repo = tempRepo();
    // Arranged through the Node API (setup-api.ts).
    writeFile(repo, 'm/w', 'one');
    await commitIn(repo, 'fraud', ['m'], 'one');
    writeFile(repo, 'm/w', 'two');
    await commitIn(repo, 'fraud', ['m'], 'two');
    expect(runCli(repo, ['checkout', 'fraud@v1']).code).toBe(0);
    expect(readFileSync(join(repo, 'm/w'), 'utf8')).toBe('one');
    writeFile(repo, 'm/w', 'local edit');
    const refused = runCli(repo, ['checkout', 'fraud@v2', '--json']);
    expect(refused.code).toBe(4);
    expect(refused.error().code).toBe('WOULD_OVERWRITE');
    expect(readFileSync(join(repo, 'm/w'), 'utf8')).toBe('local edit');
    expect(runCli(repo, ['checkout', 'fraud@v2', '--force']).code).toBe(0);
    expect(readFileSync(join(repo, 'm/w'), 'utf8')).toBe('two');
  });
});

describe('integrity', () => {
  function corruptOneObject(repo: string): void {
    const objects = join(repo, '.modelctl/objects');
    const dir = readdirSync(objects)[0];
    const file = join(objects, dir, readdirSync(join(objects, dir))[0]);
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    bytes[0] ^= 0xff;
    writeFileSync(file, bytes.length ? bytes : Buffer.from('x'));
  }

  it('verify passes on a healthy store and exits 6 on a corrupt object; checkout refuses it', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/w', pseudoRandomBytes(1000, 3));
    await commitIn(repo, 'fraud', ['m'], 'w'); // arranged through the Node API (setup-api.ts)
    expect(runCli(repo, ['verify']).code).toBe(0);
    corruptOneObject(repo);
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    expect(v.json().problems[0].kind).toBe('corrupt-object');
    expect(runCli(repo, ['checkout', 'fraud@v1', '--out', 'o']).code).toBe(6);
    expect(existsSync(join(repo, 'o/m/w'))).toBe(false);
  });

  it('a missing object is reported by verify (exit 6)', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/w', 'x');
    await commitIn(repo, 'fraud', ['m'], 'x'); // arranged through the Node API (setup-api.ts)
    const objects = join(repo, '.modelctl/objects');
    const dir = readdirSync(objects)[0];
    unlinkSync(join(objects, dir, readdirSync(join(objects, dir))[0]));
    const v = runCli(repo, ['verify', '--json']);
    expect(v.code).toBe(6);
    expect(v.json().problems.map((p: { kind: string }) => p.kind)).toContain('missing-object');
  });
});

describe('gc', () => {
  it('deletes only unreferenced objects; --dry-run deletes nothing', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/w', 'kept');
    await commitIn(repo, 'fraud', ['m'], 'kept'); // arranged through the Node API (setup-api.ts)
    // An orphan: bytes stored by a commit that never recorded its version.
    const orphanDir = join(repo, '.modelctl/objects/ff');
    writeFile(repo, '.modelctl/objects/ff/' + 'f'.repeat(62), 'orphan');
    const env = { MODELCTL_GC_GRACE_SECONDS: '0' };
    const dry = runCli(repo, ['gc', '--dry-run', '--json'], { env });
    expect(dry.json().deleted).toHaveLength(1);
    expect(readdirSync(orphanDir)).toHaveLength(1);
    const real = runCli(repo, ['gc', '--json'], { env });
    expect(real.code).toBe(0);
    expect(real.json().deleted.map((d: { digest: string }) => d.digest)).toEqual(['f'.repeat(64)]);
    expect(readdirSync(orphanDir)).toHaveLength(0);
    expect(runCli(repo, ['verify']).code).toBe(0);
    expect(runCli(repo, ['checkout', 'fraud', '--out', 'o']).code).toBe(0);
    // Within the grace period nothing young is collected.
    writeFile(repo, '.modelctl/objects/ff/' + 'e'.repeat(62), 'young');
    expect(runCli(repo, ['gc', '--json']).json().deleted).toHaveLength(0);
  });
});

describe('config', () => {
  it('get, set, ls with sources and validation', () => {
    const repo = tempRepo();
    expect(runCli(repo, ['config', 'get', 'stages', '--json']).json()).toMatchObject({ value: ['staging', 'production'] });
    // Credentials in a URL are refused (as by remote add), never written and not repeated.
    const refused = runCli(repo, ['config', 'set', 'remotes.origin.url', 'https://u:secret@example.com/x', '--json']);
    expect(refused.code).toBe(2);
    expect(refused.error().code).toBe('CREDENTIALS_IN_URL');
    expect(refused.stdout + refused.stderr).not.toContain('secret');
    expect(runCli(repo, ['config', 'set', 'remotes.origin.url', 'https://example.com/x']).code).toBe(0);
    const got = runCli(repo, ['config', 'get', 'remotes.origin.url', '--json']).json();
    expect(got.source).toBe('local');
    expect(JSON.stringify(got)).not.toContain('secret');
    expect(runCli(repo, ['config', 'set', 'stages', '5']).code).toBe(2);
    expect(runCli(repo, ['config', 'set', '--shared', 'stages', '["dev","prod"]']).code).toBe(0);
    expect(JSON.parse(readFileSync(join(repo, 'modelctl.json'), 'utf8')).stages).toEqual(['dev', 'prod']);
    expect(runCli(repo, ['config', 'get', 'nothing.here']).code).toBe(3);
    const env = runCli(repo, ['config', 'get', 'default_remote', '--json'], { env: { MODELCTL_REMOTE: 'file:///tmp/r' } }).json();
    expect(env.source).toBe('env');
  });
  it('a modelctl.json with a wrong type is a usage error naming the key', () => {
    const repo = tempRepo();
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ stages: 'production' }));
    const r = runCli(repo, ['ls', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().message).toContain('stages');
  });
});

describe('git lineage', () => {
  function git(cwd: string, ...args: string[]) {
    execFileSync('git', args, { cwd, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
  }
  it('records commit, branch, dirty flag and a credential-free remote', () => {
    const repo = tempDir();
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'dev@example.com');
    git(repo, 'remote', 'add', 'origin', 'https://bot:ghp_SECRET@github.com/acme/train.git');
    expect(runCli(repo, ['init', '--yes']).code).toBe(0);
    writeFile(repo, 'train.py', 'print(1)');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'init');
    writeFile(repo, 'model/w', 'w');
    writeFileSync(join(repo, '.gitignore'), readFileSync(join(repo, '.gitignore'), 'utf8') + 'model/\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'ignore');
    const clean = runCli(repo, ['commit', 'fraud', 'model', '--json']).json();
    expect(clean.version.gitDirty).toBe(false);
    expect(clean.version.author).toBe('dev@example.com');
    const show = runCli(repo, ['show', 'fraud', '--json']);
    expect(show.stdout).not.toContain('ghp_SECRET');
    expect(show.json().lineage.code).toMatchObject({ branch: 'main', dirty: false, remote: 'https://github.com/acme/train.git' });
    writeFile(repo, 'train.py', 'print(2)');
    writeFile(repo, 'model/w', 'w2');
    const dirty = runCli(repo, ['commit', 'fraud', 'model', '--json']).json();
    expect(dirty.version.gitDirty).toBe(true);
    expect(runCli(repo, ['show', 'fraud', '--json']).json().lineage.code.diffHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
