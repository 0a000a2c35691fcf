import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signatureKey } from '../../src/core/signature-layout.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/**
 * Signatures travel with versions (push publishes, fetch and pull bring them), and pull
 * verifies before it places anything when the version's stage or model requires it.
 */
function setup() {
  const remote = join(tempDir(), 'registry');
  const a = tempRepo();
  writeFile(a, 'model/w.bin', Buffer.alloc(200_000, 5));
  writeFile(a, 'model/config.json', '{"n":1}');
  const c = runCli(a, ['commit', 'fraud', 'model/', '-m', 'one', '--json']);
  expect(c.code, c.stderr).toBe(0);
  const keys = writeKeyPair(a, 'release', { type: 'ec', curve: 'prime256v1' });
  mkKeysDir(a);
  const cfg = JSON.parse(readFileSync(join(a, 'modelctl.json'), 'utf8'));
  cfg.trust = { keys: { release: 'keys/release.pub' } };
  cfg.policies = { production: { require_signatures: ['release'] } };
  writeFileSync(join(a, 'modelctl.json'), JSON.stringify(cfg, null, 2));
  expect(runCli(a, ['remote', 'add', 'origin', remote, '--default']).code).toBe(0);
  return { a, remote, keys, v1: c.json().version.id as string };
}

function mkKeysDir(repo: string): void {
  writeFile(repo, 'keys/release.pub', readFileSync(join(repo, 'release.pub')));
}

/** A second clone sharing modelctl.json and keys/ (as git would give it). */
function clone(a: string, remote: string): string {
  const b = tempRepo();
  writeFileSync(join(b, 'modelctl.json'), readFileSync(join(a, 'modelctl.json')));
  writeFile(b, 'keys/release.pub', readFileSync(join(a, 'keys/release.pub')));
  expect(runCli(b, ['remote', 'ls']).code).toBe(0);
  return b;
}

describe('signatures travel with versions', () => {
  it('push publishes each signature once (create-only, one per key); pull and fetch bring them; show lists the signer', () => {
    const { a, remote, v1 } = setup();
    expect(runCli(a, ['sign', 'fraud@v1', '--key', 'release.pem']).code).toBe(0);
    expect(runCli(a, ['attest', 'fraud@v1', '--key', 'release.pem']).code).toBe(0);
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

    const b = clone(a, remote);
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

  it('pull of a version whose stage requires signatures verifies them first: a tampered one on the remote is exit 6 and nothing is written', () => {
    const { a, remote, v1 } = setup();
    expect(runCli(a, ['sign', 'fraud@v1', '--key', 'release.pem']).code).toBe(0);
    expect(runCli(a, ['promote', 'fraud@v1', '--to', 'production', '--yes']).code).toBe(0);
    expect(runCli(a, ['push']).code).toBe(0);
    // someone swaps the bundle on the remote for one whose payload was edited
    const hint = runCli(a, ['show', 'fraud@v1', '--json']).json().signatures[0].keyHint as string;
    const key = join(remote, signatureKey(v1, 'signature', hint));
    const good = readFileSync(key);
    const bundle = JSON.parse(good.toString());
    const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    payload.predicate.resources[0].digest = '0'.repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    writeFileSync(key, JSON.stringify(bundle));

    const b = clone(a, remote);
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

  it('models.<m>.require_signatures: pull of an unsigned version is refused (exit 6) and writes nothing; --signed-by another key too', () => {
    const { a, remote } = setup();
    const cfg = JSON.parse(readFileSync(join(a, 'modelctl.json'), 'utf8'));
    cfg.models = { fraud: { require_signatures: ['release'] } };
    writeFileSync(join(a, 'modelctl.json'), JSON.stringify(cfg, null, 2));
    expect(runCli(a, ['push']).code).toBe(0);
    const b = clone(a, remote);
    const out = join(tempDir(), 'deploy');
    const r = runCli(b, ['pull', 'fraud@v1', '--out', out, '--json']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('SIGNATURE_MISSING');
    expect(existsSync(join(out, 'model'))).toBe(false);
    // signed now: the pull goes through
    expect(runCli(a, ['sign', 'fraud@v1', '--key', 'release.pem']).code).toBe(0);
    expect(runCli(a, ['push']).code).toBe(0);
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
