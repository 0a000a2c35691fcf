import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSet } from '../../src/api/config.js';
import { mistypedUrlSuggestion, parseRemoteUrl } from '../../src/remote/url.js';
import { apiEnv, commitIn, promoteIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** `modelctl config set [--shared] <key> <value>` as a set-up step, through the Node API (setup-api.ts style). */
const configSetIn = (cwd: string, key: string, value: string, opts: { shared?: boolean } = {}) =>
  configSet({ cwd, env: apiEnv(), key, value, shared: opts.shared });

describe('mistyped remote URLs', () => {
  it('are refused with the URL that was meant, never taken as a folder', () => {
    for (const [typed, meant] of [
      ['s3:/bucket/x', 's3://bucket/x'],
      ['s3//bucket', 's3://bucket'],
      ['s3:bucket', 's3://bucket'],
      ['S3:/bucket/team', 's3://bucket/team'],
      ['file:/srv/registry', 'file:///srv/registry'],
    ]) {
      expect(mistypedUrlSuggestion(typed), typed).toBe(meant);
      expect(() => parseRemoteUrl(typed, { cwd: '/tmp' }), typed).toThrow(expect.objectContaining({ exitCode: 2, data: { suggestion: meant } }));
    }
    // Plain paths stay paths.
    for (const p of ['./s3:bucket', 'registry', '../shared/reg', '/mnt/share', 'C:/models']) {
      expect(mistypedUrlSuggestion(p), p).toBeNull();
      expect(parseRemoteUrl(p, { cwd: '/tmp' }).kind).toBe('directory');
    }
    expect(() => parseRemoteUrl('s3:///bucket')).toThrow(/did you mean s3:\/\/bucket\?/);
  });

  it('remote add, config set, push --remote and a repository-less pull all exit 2 and write nothing', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    // Arranged through the Node API (setup-api.ts); what the test checks runs through the CLI.
    await commitIn(repo, 'm', ['model'], '', { message: undefined, argv: ['commit', 'm', 'model'] });
    const add = runCli(repo, ['remote', 'add', 'origin', 's3:/bucket/x', '--json']);
    expect(add.code).toBe(2);
    expect(add.error().message).toMatch(/did you mean s3:\/\/bucket\/x\?/);
    expect(runCli(repo, ['config', 'set', 'remotes.origin.url', 's3:bucket']).code).toBe(2);
    expect(runCli(repo, ['push', '--remote', 's3//bucket']).code).toBe(2);
    expect(runCli(repo, ['push'], { env: { MODELCTL_REMOTE: 's3:/bucket/x' } }).code).toBe(2);
    expect(existsSync(join(repo, 's3:'))).toBe(false);
    expect(existsSync(join(repo, 's3'))).toBe(false);
    const ci = tempDir();
    const pull = runCli(ci, ['pull', 'm', '--remote', 's3:/bucket/x', '--out', 'model', '--json']);
    expect(pull.code).toBe(2);
    expect(pull.error().code).toBe('INVALID_REMOTE_URL');
    expect(readdirSync(ci)).toEqual([]);
  });
});

describe('config messages', () => {
  it('an unknown key or a bad value is one sentence naming the setting once and what is allowed', () => {
    const repo = tempRepo();
    const cases: [string[], RegExp][] = [
      [['config', 'set', 'checkout.lnk', 'copy'], /^unknown setting 'checkout\.lnk' — did you mean 'checkout\.link'\?/],
      [['config', 'set', 'checkout.link', 'fast'], /^checkout\.link must be one of auto, reflink, hardlink, copy$/],
      [['config', 'set', 'stages', '"prod"'], /^stages must be a list/],
      [['config', 'set', 'nosuch', '1'], /^unknown setting 'nosuch' \(settings: models, stages/],
    ];
    for (const [args, pattern] of cases) {
      const r = runCli(repo, [...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      const msg = r.error().message;
      expect(msg, args.join(' ')).toMatch(pattern);
      expect(msg).not.toMatch(/\(root\)|Unrecognized key|Invalid option/);
    }
    const get = runCli(repo, ['config', 'get', 'checkout.lnk', '--json']);
    expect(get.code).toBe(3);
    expect(get.error().message).toMatch(/unknown setting 'checkout\.lnk' — did you mean 'checkout\.link'\?/);
  });

  it('a bad modelctl.json is reported with the file and the setting, not a validator path', () => {
    const repo = tempRepo();
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ stages: ['staging'], checkout: { link: 'fast' }, extra: 1 }));
    const r = runCli(repo, ['ls', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().message).toMatch(/modelctl\.json: /);
    expect(r.error().message).not.toMatch(/\(root\)|Unrecognized key/);
  });
});

describe('the two layers of settings', () => {
  it('apply setting by setting: a local models.<name>.retention or policy rule does not hide the shared paths or rules', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'w');
    // The two layers, arranged through the Node API (setup-api.ts); commit and promote run through the CLI.
    await configSetIn(repo, 'models.face.paths', '["model/"]', { shared: true });
    await configSetIn(repo, 'policies.production.require_reason', 'true', { shared: true });
    await configSetIn(repo, 'models.face.retention.keep_last', '3');
    await configSetIn(repo, 'policies.production.from', 'true');
    const c = runCli(repo, ['commit', 'face', '-m', 'one', '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.json().files.map((f: { path: string }) => f.path)).toEqual(['model/w.bin']);
    // Both rules of production hold: the shared reason and the local from.
    const noReason = runCli(repo, ['promote', 'face@v1', '--to', 'production', '--reason', 'go', '--json']);
    expect(noReason.code).toBe(5);
    await promoteIn(repo, 'face@v1', 'staging'); // arranged through the Node API
    const denied = runCli(repo, ['promote', 'face@v1', '--to', 'production', '--json']);
    expect(denied.code).toBe(5);
    expect(runCli(repo, ['promote', 'face@v1', '--to', 'production', '--reason', 'go']).code).toBe(0);
  });
});

describe('config set refuses settings that would break later commands, and leaves the file as it was', () => {
  it('a stage named twice, a policy for no configured stage, a default remote that does not exist: exit 2', () => {
    const repo = tempRepo();
    const before = readFileSync(join(repo, 'modelctl.json'), 'utf8');
    for (const args of [['stages', '["a","a"]'], ['policies.prod.require_reason', 'true'], ['default_remote', 'nope']]) {
      const r = runCli(repo, ['config', 'set', '--shared', ...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.error().code, args.join(' ')).toMatch(/^INVALID_(SETTING|POLICY)$/);
      expect(readFileSync(join(repo, 'modelctl.json'), 'utf8')).toBe(before);
    }
    expect(runCli(repo, ['config', 'set', 'stages', '["a","a"]']).code).toBe(2);
    expect(existsSync(join(repo, '.modelctl', 'config.json'))).toBe(false);
    expect(runCli(repo, ['config', 'set', '--shared', 'policies.production.require_reason', 'true']).code).toBe(0);
  });
});

describe('editing modelctl.json', () => {
  it('remote add and config set --shared keep key order and formatting: the diff is the change only', () => {
    const repo = tempRepo();
    const original = [
      '{',
      '    "stages": ["staging", "production"],',
      '    "models": { "fraud": { "paths": ["model/"], "metrics": "metrics.json" } },',
      '    "policies": {',
      '        "production": { "require_reason": true }',
      '    }',
      '}',
      '',
    ].join('\n');
    writeFileSync(join(repo, 'modelctl.json'), original);
    const registry = tempDir();
    expect(runCli(repo, ['remote', 'add', 'origin', registry]).code).toBe(0);
    let text = readFileSync(join(repo, 'modelctl.json'), 'utf8');
    const lines = text.split('\n');
    // Every original line but the closing brace region is still there, in order.
    expect(lines.slice(0, 4)).toEqual(original.split('\n').slice(0, 4));
    expect(text).toContain('    "models": { "fraud": { "paths": ["model/"], "metrics": "metrics.json" } },');
    expect(text.indexOf('"remotes"')).toBeGreaterThan(text.indexOf('"policies"'));
    expect(JSON.parse(text).remotes.origin.url).toBe(registry);

    expect(runCli(repo, ['config', 'set', '--shared', 'policies.production.require_reason', 'false']).code).toBe(0);
    text = readFileSync(join(repo, 'modelctl.json'), 'utf8');
    expect(text).toContain('        "production": { "require_reason": false }');
    expect(text.split('\n').slice(0, 3)).toEqual(original.split('\n').slice(0, 3));
    expect(Object.keys(JSON.parse(text))).toEqual(['stages', 'models', 'policies', 'remotes']);

    expect(runCli(repo, ['remote', 'rm', 'origin']).code).toBe(0);
    expect(readFileSync(join(repo, 'modelctl.json'), 'utf8')).not.toContain('origin');
    // A refused edit leaves the file as it was.
    const before = readFileSync(join(repo, 'modelctl.json'), 'utf8');
    expect(runCli(repo, ['config', 'set', '--shared', 'checkout.link', 'fast']).code).toBe(2);
    expect(readFileSync(join(repo, 'modelctl.json'), 'utf8')).toBe(before);
  });

  it('a setting added inside an empty object (the "policies": {} init writes) is laid out like the rest of the file', () => {
    const repo = tempRepo();
    const original = `${JSON.stringify({ models: { fraud: { paths: ['model/'] } }, policies: {}, stages: ['staging', 'production'] }, null, 2)}\n`;
    writeFileSync(join(repo, 'modelctl.json'), original);
    expect(runCli(repo, ['config', 'set', '--shared', 'policies.production.metrics.accuracy', '>= 0.92']).code).toBe(0);
    expect(runCli(repo, ['config', 'set', '--shared', 'policies.production.require_reason', 'true']).code).toBe(0);
    const text = readFileSync(join(repo, 'modelctl.json'), 'utf8');
    // Before, the insertion was formatted on its own: `"policies": {"production": {` and `}},`.
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    expect(JSON.parse(text).policies).toEqual({ production: { metrics: { accuracy: '>= 0.92' }, require_reason: true } });
  });

  it('config unset of the last setting in an object removes the objects it leaves empty: set then unset gives back the file byte for byte', () => {
    const repo = tempRepo();
    const original = `${JSON.stringify({ models: { fraud: { paths: ['model/'] } }, policies: {}, stages: ['staging', 'production'] }, null, 2)}\n`;
    writeFileSync(join(repo, 'modelctl.json'), original);
    expect(runCli(repo, ['config', 'set', '--shared', 'policies.production.metrics.accuracy', '>= 0.92']).code).toBe(0);
    expect(runCli(repo, ['config', 'set', '--shared', 'policies.production.require_reason', 'true']).code).toBe(0);
    expect(runCli(repo, ['config', 'unset', '--shared', 'policies.production.metrics.accuracy']).code).toBe(0);
    // production keeps what is left in it.
    expect(JSON.parse(readFileSync(join(repo, 'modelctl.json'), 'utf8')).policies).toEqual({ production: { require_reason: true } });
    expect(runCli(repo, ['config', 'unset', '--shared', 'policies.production.require_reason']).code).toBe(0);
    expect(readFileSync(join(repo, 'modelctl.json'), 'utf8')).toBe(original);
    // A model's setting: the model itself (an object with other settings) stays.
    expect(runCli(repo, ['config', 'set', '--shared', 'models.fraud.metrics', 'metrics.json']).code).toBe(0);
    expect(runCli(repo, ['config', 'unset', '--shared', 'models.fraud.metrics']).code).toBe(0);
    expect(readFileSync(join(repo, 'modelctl.json'), 'utf8')).toBe(original);
  });
});

describe('the default remote', () => {
  it('the first remote, reported as the default, stays the default when a second one is added (shared or --local)', () => {
    for (const local of [false, true]) {
      const repo = tempRepo();
      const where = local ? ['--local'] : [];
      const first = runCli(repo, ['remote', 'add', 'origin', join(tempDir(), 'one'), ...where, '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json().default).toBe(true);
      expect(runCli(repo, ['remote', 'add', 'backup', join(tempDir(), 'two'), ...where]).code).toBe(0);
      const ls = runCli(repo, ['remote', 'ls', '--json']).json();
      expect(ls.defaultRemote).toBe('origin');
      // Written where origin is defined, so a teammate's clone agrees (shared) or this one alone (local).
      const file = local ? join(repo, '.modelctl', 'config.json') : join(repo, 'modelctl.json');
      expect(JSON.parse(readFileSync(file, 'utf8')).default_remote).toBe('origin');
      // An explicit --default still moves it.
      expect(runCli(repo, ['remote', 'add', 'third', join(tempDir(), 'three'), ...where, '--default']).code).toBe(0);
      expect(runCli(repo, ['remote', 'ls', '--json']).json().defaultRemote).toBe('third');
    }
  });
});
