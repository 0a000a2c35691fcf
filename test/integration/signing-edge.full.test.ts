import { generateKeyPairSync } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MT, TEST_KEY_HINT, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, copyFixture, omsSchemaValidator, writeKeyPair } from '../helpers/oms-fixtures.js';
import { runCli, tempDir, writeFile } from '../helpers/temp-repo.js';
import { sha256OfFile } from '../../src/store/whole-file-sha256.js';
import { exportBundle } from '../../src/api/bundle-export.js';
import { checkout } from '../../src/api/checkout.js';
import { apiEnv, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { signIn, signedRepoSetup, settings } from '../helpers/signing.js';

/** Every file under `dir`, recursively. */
function walkFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

describe('sign and verify --signature', () => {

  it('sign -o to a path that cannot be written fails before anything is stored: no signature, no event', async () => {
    const { repo } = await signedRepoSetup();
    for (const [output, code] of [['missing-folder/x.sig', 3], ['.', 4]] as const) {
      const r = runCli(repo, ['sign', 'fraud@v1', '--key', 'release.pem', '-o', output, '--json']);
      expect(r.code, output).toBe(code);
    }
    expect(runCli(repo, ['show', 'fraud@v1', '--json']).json().signatures).toEqual([]);
    expect((runCli(repo, ['history', 'fraud', '--json']).json() as { action: string }[]).filter((e) => e.action === 'sign')).toEqual([]);
    expect(runCli(repo, ['sign', 'fraud@v1', '--key', 'release.pem', '-o', 'model.sig']).code).toBe(0);
  });

  it('signatures survive verify --rebuild-index (they cannot be made again without the key)', async () => {
    const { repo } = await signedRepoSetup();
    await signIn(repo, 'sign', 'fraud@v1', 'release.pem');
    const r = runCli(repo, ['verify', '--rebuild-index', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().salvaged.signatures).toBe(1);
    expect(runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']).json()).toMatchObject({ ok: true, signedBy: ['release'] });
  });

  it('signed by a key trust.keys does not list: the hint says to trust the key, and --signed-by checks it as pull does', async () => {
    const { repo } = await signedRepoSetup();
    writeKeyPair(repo, 'stranger', { type: 'ec', curve: 'prime256v1' });
    writeKeyPair(repo, 'other', { type: 'ec', curve: 'prime256v1' });
    expect(runCli(repo, ['sign', 'fraud@v1', '--key', 'stranger.pem']).code).toBe(0);
    const r = runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(r.error()).toMatchObject({ code: 'UNSIGNED', hint: expect.stringContaining('which trust.keys does not list') });
    const byFile = runCli(repo, ['verify', 'fraud@v1', '--signature', '--signed-by', 'stranger.pub', '--json']);
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(byFile.json()).toMatchObject({ ok: true, signedBy: ['stranger.pub'], required: ['stranger.pub'] });
    // A key that did not sign is required, not merely trusted: exit 6, named as missing.
    const notSigned = runCli(repo, ['verify', 'fraud@v1', '--signature', '--signed-by', 'stranger.pub', '--signed-by', 'release', '--json']);
    expect(notSigned.code).toBe(6);
    expect(notSigned.json()).toMatchObject({ ok: false, missing: ['release'] });
    expect(runCli(repo, ['verify', 'fraud@v1', '--signature', '--signed-by', 'other.pub']).code).toBe(6);
    expect(runCli(repo, ['verify', 'fraud@v1', '--signature', '--signed-by', 'nothere.pub']).code).toBe(3);
    expect(runCli(repo, ['verify', 'fraud@v1', '--signed-by', 'stranger.pub', '--json']).error().code).toBe('SIGNED_BY_WITHOUT_SIGNATURE');
  });

  it('a checked-out copy with model.sig verifies with verify-signature; the reference test key makes the reference hint', async () => {
    const { repo } = await signedRepoSetup();
    const out = join(tempDir(), 'deploy');
    await checkout({ cwd: repo, env: apiEnv(), ref: 'fraud@v1', out });
    const s = runCli(repo, ['sign', 'fraud@v1', '--key', TEST_PRIVATE_KEY, '-o', join(out, 'model.sig'), '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.json().keyHint).toBe(TEST_KEY_HINT);
    const bundle = JSON.parse(readFileSync(join(out, 'model.sig'), 'utf8'));
    const schemas = omsSchemaValidator();
    expect(schemas.validate('bundle', bundle)).toBeNull();
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    expect(schemas.validate('statement', statement)).toBeNull();
    expect(statement.predicate.resources.map((r: { name: string; digest: string }) => [r.name, r.digest])).toEqual([
      ['model/config.json', sha256OfFile(join(out, 'model/config.json')).sha256],
      ['model/w.bin', sha256OfFile(join(out, 'model/w.bin')).sha256],
    ]);
    const v = runCli(tempDir(), ['verify-signature', out, '--signature', join(out, 'model.sig'), '--key', TEST_PUBLIC_KEY, '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json()).toMatchObject({ ok: true, files: 2 });
  });
});

describe('verify-signature: as model_signing verify key', () => {
  const verify = (cwd: string, args: string[]) => runCli(cwd, ['verify-signature', ...args, '--key', TEST_PUBLIC_KEY, '--json']);

  it('v1.0.1 records no ignore list: without --ignore-paths its ignore-me is an unsigned file (exit 6), as upstream', () => {
    const r = verify(MT, ['./v1.0.1-elliptic-key', '--signature', './v1.0.1-elliptic-key/model.sig']);
    expect(r.code).toBe(6);
    expect(r.error()).toMatchObject({ code: 'UNSIGNED_FILE', data: { extra: ['ignore-me'] } });
  });

  it('refuses another key, symlinks unless allowed, and names nested extra files', () => {
    const dir = copyFixture('v1.1.0-elliptic-key');
    const other = writeKeyPair(tempDir(), 'other', { type: 'ec', curve: 'secp384r1' });
    const k = runCli(dir, ['verify-signature', '.', '--signature', 'model.sig', '--key', other.pub, '--json']);
    expect(k.code).toBe(6);
    expect(k.error().code).toBe('KEY_MISMATCH');
    symlinkSync('signme-1', join(dir, 'link'));
    expect(verify(dir, ['.', '--signature', 'model.sig']).error().code).toBe('UNSUPPORTED_FILE');
    // allowed, the link is a file of its own that was not signed
    expect(verify(dir, ['.', '--signature', 'model.sig', '--allow-symlinks']).error()).toMatchObject({ code: 'UNSIGNED_FILE', data: { extra: ['link'] } });
    rmSync(join(dir, 'link'));
    writeFile(dir, 'sub/.git/x', 'only top-level .git is ignored');
    expect(verify(dir, ['.', '--signature', 'model.sig']).error()).toMatchObject({ data: { extra: ['sub/.git/x'] } });
    rmSync(join(dir, 'sub'), { recursive: true });
    // v1.0.1 records no ignore list, so only the verifier's own defaults leave .git out
    const old = copyFixture('v1.0.1-elliptic-key');
    writeFile(old, '.git/HEAD', 'ref: main');
    expect(verify(old, ['.', '--signature', 'model.sig', '--ignore-paths', 'ignore-me']).code).toBe(0);
    expect(verify(old, ['.', '--signature', 'model.sig', '--ignore-paths', 'ignore-me', '--no-ignore-git-paths']).error()).toMatchObject({ data: { extra: ['.git/HEAD'] } });
  });

  it('a signature file outside the folder works, a missing one is exit 3, a malformed one exit 6', () => {
    const dir = copyFixture('v1.1.0-elliptic-key');
    const sig = join(tempDir(), 'elsewhere.sig');
    cpSync(join(dir, 'model.sig'), sig);
    rmSync(join(dir, 'model.sig'));
    expect(verify(dir, ['.', '--signature', sig]).code).toBe(0);
    expect(verify(dir, ['.', '--signature', 'nope.sig']).code).toBe(3);
    writeFileSync(sig, '{"mediaType":');
    expect(verify(dir, ['.', '--signature', sig]).code).toBe(6);
  });
});

describe('trust and gates: require_signatures', () => {

  it('a policy naming a key that trust.keys lacks is a usage error (exit 2)', async () => {
    const { repo } = await signedRepoSetup();
    settings(repo, { policies: { staging: { require_signatures: ['nobody'] } } });
    const r = runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().code).toBe('UNKNOWN_TRUSTED_KEY');
  });

  it('the password of an encrypted key is never recorded: not in the event, the index, the journal, a bundle or a remote', async () => {
    const { repo } = await signedRepoSetup();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const password = 'pw-sekret-7731';
    writeFileSync(join(repo, 'locked.pem'), privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password }));
    expect(runCli(repo, ['sign', 'fraud@v1', '--key', 'locked.pem', '--password', password]).code).toBe(0);
    const attest = runCli(repo, ['attest', 'fraud@v1', '--key', 'locked.pem', `--password=${password}`]);
    expect(attest.code, attest.stderr).toBe(0);
    const events = runCli(repo, ['history', 'fraud', '--json']).json() as { action: string; argv: string[] }[];
    expect(events.find((e) => e.action === 'sign')!.argv).toEqual(['sign', 'fraud@v1', '--key', 'locked.pem', '--password', 'REDACTED']);
    expect(JSON.stringify(events)).not.toContain(password);
    // The copies to search are arranged through the Node API (setup-api.ts); sign and attest above ran as a user runs them.
    const remote = tempDir();
    await remoteAddIn(repo, 'origin', remote, { default: true });
    await pushIn(repo, ['fraud']);
    await exportBundle({ cwd: repo, env: apiEnv(), ref: 'fraud@v1', output: 'b.tar' });
    const files = [join(repo, 'b.tar'), ...walkFiles(join(repo, '.modelctl')), ...walkFiles(remote)];
    for (const f of files) expect(readFileSync(f).includes(password), f).toBe(false);
  });
});
