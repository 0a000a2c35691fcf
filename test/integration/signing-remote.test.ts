import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signatureKey } from '../../src/core/signature-layout.js';
import { attest } from '../../src/api/attest.js';
import { remoteList } from '../../src/api/remote-manage.js';
import { sign } from '../../src/api/sign.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { apiEnv, commitIn, promoteIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** `modelctl sign|attest <ref> --key <key>` through the Node API (set-up only). */
async function signIn(repo: string, verb: 'sign' | 'attest', ref: string, key: string): Promise<void> {
  await (verb === 'sign' ? sign : attest)({ cwd: repo, env: apiEnv(), ref, key, argv: [verb, ref, '--key', key] });
}

/**
 * Signatures travel with versions (push publishes, fetch and pull bring them), and pull
 * verifies before it places anything when the version's stage or model requires it.
 */
async function setup() {
  const remote = join(tempDir(), 'registry');
  const a = tempRepo();
  writeFile(a, 'model/w.bin', Buffer.alloc(200_000, 5));
  writeFile(a, 'model/config.json', '{"n":1}');
  // Arranged through the Node API (setup-api.ts); what each test checks runs through the CLI.
  const v1 = await commitIn(a, 'fraud', ['model/'], 'one', { argv: ['commit', 'fraud', 'model/', '-m', 'one', '--json'] });
  const keys = writeKeyPair(a, 'release', { type: 'ec', curve: 'prime256v1' });
  mkKeysDir(a);
  const cfg = JSON.parse(readFileSync(join(a, 'modelctl.json'), 'utf8'));
  cfg.trust = { keys: { release: 'keys/release.pub' } };
  cfg.policies = { production: { require_signatures: ['release'] } };
  writeFileSync(join(a, 'modelctl.json'), JSON.stringify(cfg, null, 2));
  await remoteAddIn(a, 'origin', remote, { default: true });
  return { a, remote, keys, v1 };
}

function mkKeysDir(repo: string): void {
  writeFile(repo, 'keys/release.pub', readFileSync(join(repo, 'release.pub')));
}

/** A second clone sharing modelctl.json and keys/ (as git would give it). */
async function clone(a: string, remote: string): Promise<string> {
  const b = tempRepo();
  writeFileSync(join(b, 'modelctl.json'), readFileSync(join(a, 'modelctl.json')));
  writeFile(b, 'keys/release.pub', readFileSync(join(a, 'keys/release.pub')));
  // The copied settings read (`modelctl remote ls`), through the Node API: it throws if they do not.
  await remoteList({ cwd: b, env: apiEnv() });
  return b;
}

describe('signatures travel with versions', () => {
  it('push publishes each signature once (create-only, one per key); pull and fetch bring them; show lists the signer', async () => {
    const { a, remote, v1 } = await setup();
    await signIn(a, 'sign', 'fraud@v1', 'release.pem');
    await signIn(a, 'attest', 'fraud@v1', 'release.pem');
    const p = runCli(a, ['push']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/, 2 signatures$/m); // the summary counts what it published
    const hint = runCli(a, ['show', 'fraud@v1', '--json']).json().signatures[0].keyHint as string;
    expect(existsSync(join(remote, signatureKey(v1, 'signature', hint)))).toBe(true);
    expect(existsSync(join(remote, signatureKey(v1, 'attestation', hint)))).toBe(true);
    const before = readFileSync(join(remote, signatureKey(v1, 'signature', hint)));
    const again = runCli(a, ['push']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('signature');
    expect(readFileSync(join(remote, signatureKey(v1, 'signature', hint))).equals(before)).toBe(true);

    const b = await clone(a, remote);
    expect(runCli(b, ['fetch', 'fraud']).code).toBe(0);
    expect(runCli(b, ['show', 'fraud@v1', '--json']).json().signatures).toMatchObject([
      { kind: 'signature', keyName: 'release' },
      { kind: 'attestation', keyName: 'release' },
    ]);
    const pulled = runCli(b, ['pull', 'fraud@v1', '--json']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const v = runCli(b, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json()).toMatchObject({ ok: true, signedBy: ['release'] });
  });

  it('pull of a version whose stage requires signatures verifies them first: a tampered one on the remote is exit 6 and nothing is written', async () => {
    const { a, remote, v1 } = await setup();
    await signIn(a, 'sign', 'fraud@v1', 'release.pem');
    await promoteIn(a, 'fraud@v1', 'production');
    await pushIn(a);
    // someone swaps the bundle on the remote for one whose payload was edited
    const hint = runCli(a, ['show', 'fraud@v1', '--json']).json().signatures[0].keyHint as string;
    const key = join(remote, signatureKey(v1, 'signature', hint));
    const good = readFileSync(key);
    const bundle = JSON.parse(good.toString());
    const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    payload.predicate.resources[0].digest = '0'.repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    writeFileSync(key, JSON.stringify(bundle));

    const b = await clone(a, remote);
    const out = join(tempDir(), 'deploy');
    const r = runCli(b, ['pull', 'fraud@production', '--out', out, '--json']);
    expect(r.code).toBe(6);
    expect(['SIGNATURE_INVALID', 'SIGNATURE_MISSING']).toContain(r.error().code);
    expect(existsSync(join(out, 'model'))).toBe(false);

    // without a repository, naming the key: same refusal, nothing left in --out
    const bare = tempDir();
    const out2 = join(bare, 'deploy');
    const r2 = runCli(bare, ['pull', 'fraud@production', '--remote', remote, '--out', out2, '--signed-by', join(a, 'release.pub'), '--json']);
    expect(r2.code).toBe(6);
    expect(existsSync(out2) ? readdirSync(out2) : []).toEqual([]);

    // put the real one back: the pull places the files and model.sig, which verify-signature accepts
    writeFileSync(key, good);
    const ok = runCli(bare, ['pull', 'fraud@production', '--remote', remote, '--out', out2, '--signed-by', join(a, 'release.pub'), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().signature).toMatchObject({ keyHint: hint });
    expect(readFileSync(join(out2, 'model.sig')).equals(good)).toBe(true);
    const vs = runCli(bare, ['verify-signature', out2, '--signature', join(out2, 'model.sig'), '--key', join(a, 'release.pub'), '--json']);
    expect(vs.code, vs.stderr).toBe(0);
    expect(vs.json().files).toBe(2);
  });

  it('models.<m>.require_signatures: pull of an unsigned version is refused (exit 6) and writes nothing; --signed-by another key too', async () => {
    const { a, remote } = await setup();
    const cfg = JSON.parse(readFileSync(join(a, 'modelctl.json'), 'utf8'));
    cfg.models = { fraud: { require_signatures: ['release'] } };
    writeFileSync(join(a, 'modelctl.json'), JSON.stringify(cfg, null, 2));
    await pushIn(a);
    const b = await clone(a, remote);
    const out = join(tempDir(), 'deploy');
    const r = runCli(b, ['pull', 'fraud@v1', '--out', out, '--json']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('SIGNATURE_MISSING');
    expect(existsSync(join(out, 'model'))).toBe(false);
    // signed now: the pull goes through
    await signIn(a, 'sign', 'fraud@v1', 'release.pem');
    await pushIn(a);
    const ok = runCli(b, ['pull', 'fraud@v1', '--out', out, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(out, 'model.sig'))).toBe(true);
    // a key that did not sign it
    const other = writeKeyPair(tempDir(), 'other', { type: 'ec', curve: 'prime256v1' });
    const bare = tempDir();
    const r3 = runCli(bare, ['pull', 'fraud@v1', '--remote', remote, '--out', join(bare, 'o'), '--signed-by', other.pub, '--json']);
    expect(r3.code).toBe(6);
    expect(existsSync(join(bare, 'o', 'model'))).toBe(false);
  });
});
