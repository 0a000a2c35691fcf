import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CycloneDX } from '../helpers/cyclonedx.js';
import { MT, TEST_PUBLIC_KEY, copyFixture, omsSchemaValidator, writeKeyPair } from '../helpers/oms-fixtures.js';
import { runCli, writeFile } from '../helpers/temp-repo.js';
import { sha256OfFile } from '../../src/store/whole-file-sha256.js';
import { commitIn } from '../helpers/setup-api.js';
import { signIn, signedRepoSetup, settings } from '../helpers/signing.js';

describe('sign and verify --signature', () => {
  // P-256 here, P-521 too; P-384 is the reference test key's curve, signed with below (every curve also in test/unit/oms-core.test.ts).
  it.each(['prime256v1', 'secp521r1'])('round trip with %s: sign, verify, show, history; signing again keeps the first', async (curve) => {
    const { repo, versionId } = await signedRepoSetup(curve);
    const s = runCli(repo, ['sign', 'fraud@v1', '--key', 'release.pem', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.json()).toMatchObject({ kind: 'signature', created: true, keyName: 'release', version: { id: versionId }, event: { action: 'sign', version: versionId } });
    const v = runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json()).toMatchObject({ ok: true, signedBy: ['release'], signatures: [{ kind: 'signature', keyName: 'release', valid: true }] });
    const again = runCli(repo, ['sign', 'fraud@v1', '--key', 'release.pem', '--json']);
    expect(again.json()).toMatchObject({ created: false, bundleId: s.json().bundleId, event: null });
    expect(runCli(repo, ['show', 'fraud@v1', '--json']).json().signatures).toMatchObject([{ kind: 'signature', keyName: 'release', valid: true }]);
    const signEvents = (runCli(repo, ['history', 'fraud', '--json']).json() as { action: string }[]).filter((e) => e.action === 'sign');
    expect(signEvents).toHaveLength(1);
    expect(runCli(repo, ['history', '--verify']).code).toBe(0);
  });

  it('a bundle changed in the index, or files that differ from what was signed, fail verify --signature (exit 6)', async () => {
    const { repo, versionId } = await signedRepoSetup();
    await signIn(repo, 'sign', 'fraud@v1', 'release.pem');
    const db = new Database(join(repo, '.modelctl', 'index.db'));
    const row = db.prepare('SELECT bundle FROM signatures WHERE version_id = ?').get(versionId) as { bundle: Buffer };
    const json = JSON.parse(row.bundle.toString());
    const payload = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString());
    payload.subject[0].name = 'edited';
    json.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    db.prepare('UPDATE signatures SET bundle = ?').run(Buffer.from(JSON.stringify(json)));
    const r = runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('SIGNATURE_INVALID');
    // a valid bundle but a file sha256 that is not the signed one (as if the object had changed)
    db.prepare('UPDATE signatures SET bundle = ?').run(row.bundle);
    db.prepare("UPDATE file_sha256 SET sha256 = ? WHERE digest = (SELECT digest FROM file_sha256 LIMIT 1)").run('0'.repeat(64));
    db.close();
    const r2 = runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(r2.code).toBe(6);
    expect(r2.error().code).toBe('SIGNATURE_INVALID');
    expect(JSON.stringify(r2.error())).toContain('changed');
  });

  it('unsigned, or signed only by an untrusted key: exit 6 UNSIGNED', async () => {
    const { repo } = await signedRepoSetup();
    expect(runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']).error().code).toBe('UNSIGNED');
    writeKeyPair(repo, 'stranger', { type: 'ec', curve: 'prime256v1' });
    const s = runCli(repo, ['sign', 'fraud@v1', '--key', 'stranger.pem', '--json']);
    expect(s.json()).toMatchObject({ created: true, keyName: null });
    const r = runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('UNSIGNED');
    // A trusted attestation beside it is counted apart, not as a second untrusted signature.
    await signIn(repo, 'attest', 'fraud@v1', 'release.pem');
    const both = runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(both.error()).toMatchObject({ code: 'UNSIGNED', message: expect.stringContaining('(1 signature by keys not in trust.keys, or not checkable; 1 valid attestation by a trusted key') });
  });

  it('refuses RSA and Ed25519 keys (exit 2) and a missing key file (exit 3)', async () => {
    const { repo } = await signedRepoSetup();
    writeKeyPair(repo, 'rsa', { type: 'rsa' });
    writeKeyPair(repo, 'ed', { type: 'ed25519' });
    for (const k of ['rsa.pem', 'ed.pem']) {
      const r = runCli(repo, ['sign', 'fraud@v1', '--key', k, '--json']);
      expect(r.code).toBe(2);
      expect(r.error().code).toBe('UNSUPPORTED_KEY');
    }
    expect(runCli(repo, ['sign', 'fraud@v1', '--key', 'nope.pem']).code).toBe(3);
    expect(runCli(repo, ['sign', 'fraud@v9', '--key', 'release.pem']).code).toBe(3);
  });
});

describe('verify-signature: as model_signing verify key', () => {
  const verify = (cwd: string, args: string[]) => runCli(cwd, ['verify-signature', ...args, '--key', TEST_PUBLIC_KEY, '--json']);

  it('accepts every real fixture, in every bundle format the reference tool reads', () => {
    const cases: [string, string[]][] = [
      ['v1.1.0-elliptic-key', ['./v1.1.0-elliptic-key', '--signature', './v1.1.0-elliptic-key/model.sig', '--ignore-paths', './v1.1.0-elliptic-key/ignore-me']],
      ['v1.1.0 (ignore-me is in its signed ignore_paths)', ['./v1.1.0-elliptic-key', '--signature', './v1.1.0-elliptic-key/model.sig']],
      ['v1.0.1-elliptic-key', ['./v1.0.1-elliptic-key', '--signature', './v1.0.1-elliptic-key/model.sig', '--ignore-paths', './v1.0.1-elliptic-key/ignore-me']],
      ['v1.0.0-elliptic-key (one file)', ['./v1.0.0-elliptic-key/signme-1', '--signature', './v1.0.0-elliptic-key/model.sig']],
      ['v0.3.1-elliptic-key (one file)', ['./v0.3.1-elliptic-key/signme-1', '--signature', './v0.3.1-elliptic-key/model.sig']],
    ];
    for (const [name, args] of cases) {
      const r = verify(MT, args);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.json().ok).toBe(true);
    }
  });

  it('refuses a changed file, an extra file and an edited payload, naming which (exit 6)', () => {
    const changed = copyFixture('v1.1.0-elliptic-key');
    writeFileSync(join(changed, 'signme-1'), 'tampered\n');
    let r = verify(changed, ['.', '--signature', 'model.sig']);
    expect(r.code).toBe(6);
    expect(r.error()).toMatchObject({ code: 'SIGNED_FILE_CHANGED', data: { changed: ['signme-1'] } });

    const extra = copyFixture('v1.1.0-elliptic-key');
    writeFileSync(join(extra, 'new-file'), 'x');
    r = verify(extra, ['.', '--signature', 'model.sig']);
    expect(r.code).toBe(6);
    expect(r.error()).toMatchObject({ code: 'UNSIGNED_FILE', data: { extra: ['new-file'] } });
    expect(verify(extra, ['.', '--signature', 'model.sig', '--ignore-unsigned-files']).code).toBe(0);

    const missing = copyFixture('v1.1.0-elliptic-key');
    rmSync(join(missing, 'signme-2'));
    r = verify(missing, ['.', '--signature', 'model.sig']);
    expect(r.error()).toMatchObject({ code: 'SIGNED_FILE_MISSING', data: { missing: ['signme-2'] } });

    const edited = copyFixture('v1.1.0-elliptic-key');
    const b = JSON.parse(readFileSync(join(edited, 'model.sig'), 'utf8'));
    const p = Buffer.from(b.dsseEnvelope.payload, 'base64').toString().replace('"allow_symlinks": false', '"allow_symlinks": true');
    b.dsseEnvelope.payload = Buffer.from(p).toString('base64');
    writeFileSync(join(edited, 'model.sig'), JSON.stringify(b));
    r = verify(edited, ['.', '--signature', 'model.sig']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('SIGNATURE_INVALID');
  });
});

describe('trust and gates: require_signatures', () => {
  it('promote is denied (exit 5) until the version carries a valid signature by each named key', async () => {
    const { repo } = await signedRepoSetup();
    settings(repo, { policies: { production: { require_signatures: ['release'] } } });
    const denied = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--yes', '--json']);
    expect(denied.code).toBe(5);
    expect((denied.error() as unknown as { data: { unmet: { rule: string; key: string }[] } }).data.unmet).toEqual([expect.objectContaining({ rule: 'signature', key: 'release' })]);
    // a signature by another key does not count
    writeKeyPair(repo, 'stranger', { type: 'ec', curve: 'prime256v1' });
    await signIn(repo, 'sign', 'fraud@v1', 'stranger.pem');
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--yes']).code).toBe(5);
    await signIn(repo, 'sign', 'fraud@v1', 'release.pem');
    const ok = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--yes', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ changed: true, checked: expect.arrayContaining(['signature:release']) });
  });
});

describe('bom and attest', () => {
  it('bom writes a CycloneDX 1.6 ML-BOM that the library validator accepts', async () => {
    const { repo, versionId } = await signedRepoSetup();
    writeFile(repo, 'data/train.csv', 'a,b\n1,2\n');
    const parent = `fraud@${versionId.slice(0, 12)}`;
    await commitIn(repo, 'fraud', ['model/'], 'with data', {
      data: ['data/train.csv', 's3://bucket/extra.parquet'],
      metrics: ['accuracy=0.95'],
      parent,
      argv: ['commit', 'fraud', 'model/', '-m', 'with data', '--data', 'data/train.csv', '--data', 's3://bucket/extra.parquet', '--metric', 'accuracy=0.95', '--parent', parent, '--json'],
    });
    const r = runCli(repo, ['bom', 'fraud@v2', '-o', 'bom.json', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(repo, 'bom.json'), 'utf8');
    expect(await new CycloneDX.Validation.JsonStrictValidator(CycloneDX.Spec.Version.v1dot6).validate(text)).toBeNull();
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
    const model = doc.metadata.component;
    expect(model).toMatchObject({ type: 'machine-learning-model', name: 'fraud', version: 'v2' });
    expect(model.hashes[0]).toMatchObject({ alg: 'SHA-256' });
    expect(model.components.map((f: { name: string }) => f.name)).toEqual(['model/config.json', 'model/w.bin']);
    expect(model.components[1].hashes[0].content).toBe(sha256OfFile(join(repo, 'model/w.bin')).sha256);
    expect(model.modelCard.quantitativeAnalysis.performanceMetrics).toEqual([{ type: 'accuracy', value: '0.95' }]);
    expect(model.modelCard.modelParameters.datasets).toHaveLength(2);
    expect(doc.components.filter((x: { type: string }) => x.type === 'data').map((x: { name: string }) => x.name)).toEqual(['data/train.csv', 's3://bucket/extra.parquet']);
    expect(doc.metadata.tools.components[0]).toMatchObject({ name: 'modelctl' });
    // the same version always gets the same BOM
    expect(runCli(repo, ['bom', 'fraud@v2']).stdout.trim()).toBe(JSON.stringify(doc, null, 2));
    // a broken BOM is caught by the validator (the test can fail)
    model.modelCard.bogus = true;
    expect(await new CycloneDX.Validation.JsonStrictValidator(CycloneDX.Spec.Version.v1dot6).validate(JSON.stringify(doc))).not.toBeNull();
  });

  it('attest signs SLSA provenance that verifies like a signature', async () => {
    const { repo, versionId } = await signedRepoSetup();
    const a = runCli(repo, ['attest', 'fraud@v1', '--key', 'release.pem', '-o', 'prov.json', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.json()).toMatchObject({ kind: 'attestation', created: true, keyName: 'release', event: { action: 'attest' } });
    const bundle = JSON.parse(readFileSync(join(repo, 'prov.json'), 'utf8'));
    expect(omsSchemaValidator().validate('envelope', bundle.dsseEnvelope)).toBeNull();
    const st = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    expect(st).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://slsa.dev/provenance/v1' });
    expect(st.subject).toEqual([
      { name: 'model/config.json', digest: { sha256: sha256OfFile(join(repo, 'model/config.json')).sha256 } },
      { name: 'model/w.bin', digest: { sha256: sha256OfFile(join(repo, 'model/w.bin')).sha256 } },
    ]);
    expect(st.predicate.buildDefinition.externalParameters.params).toEqual({ lr: 0.01 });
    expect(st.predicate.runDetails.metadata.invocationId).toBe(versionId);
    await signIn(repo, 'sign', 'fraud@v1', 'release.pem');
    const v = runCli(repo, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json().signatures.map((s: { kind: string; valid: boolean }) => [s.kind, s.valid])).toEqual([
      ['signature', true],
      ['attestation', true],
    ]);
  });
});
