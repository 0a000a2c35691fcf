import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelctlError } from '../../src/errors.js';
import { bundlePayload, checkBundleSignature, makeBundle, parseBundle } from '../../src/signing/bundle.js';
import { envelopeSignedBy, preAuthEncoding } from '../../src/signing/dsse.js';
import { loadSigningKey, loadVerifyingKey } from '../../src/signing/keys.js';
import { buildOmsStatement, compareResourceNames, parseOmsStatement, rootDigest, statementBytes } from '../../src/signing/oms-statement.js';
import { sha256OfFile } from '../../src/store/whole-file-sha256.js';
import { listModelFolder } from '../../src/workspace/oms-folder.js';
import { MT, OMS_FIXTURES, TEST_KEY_HINT, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, omsSchemaValidator } from '../helpers/oms-fixtures.js';
import { tempDir } from '../helpers/temp-repo.js';
import { generateKeyPairSync } from 'node:crypto';

const GOLDEN = join(MT, 'golden-payloads');
const KNOWN_MODEL_TEXT = 'This is a simple model';

/** The test models of upstream tests/conftest.py, rebuilt (SOURCES.md). */
function buildGoldenModel(name: string): string {
  const base = tempDir('oms-golden-');
  switch (name) {
    case 'sample_model_file': {
      writeFileSync(join(base, 'file_model'), KNOWN_MODEL_TEXT);
      return join(base, 'file_model');
    }
    case 'empty_model_file': {
      writeFileSync(join(base, 'empty_file_model'), '');
      return join(base, 'empty_file_model');
    }
    case 'sample_model_folder': {
      const root = join(base, 'sample_model');
      for (let i = 0; i < 2; i++) {
        mkdirSync(join(root, `d${i}`), { recursive: true });
        for (let j = 0; j < 3; j++) writeFileSync(join(root, `d${i}`, `f${i}${j}`), `This is file f${i}${j} in d${i}.`);
      }
      for (let i = 0; i < 4; i++) writeFileSync(join(root, `f${i}`), `This is file f${i} in root.`);
      return root;
    }
    case 'empty_model_folder': {
      mkdirSync(join(base, 'empty_folder_model'));
      return join(base, 'empty_folder_model');
    }
    case 'model_folder_with_empty_file': {
      const root = join(base, 'empty_file_inside_model');
      mkdirSync(root);
      writeFileSync(join(root, 'empty_file'), '');
      return root;
    }
    case 'deep_model_folder': {
      const root = join(base, 'deep_model');
      const deep = join(root, 'd0', 'd1', 'd2', 'd3', 'd4');
      mkdirSync(deep, { recursive: true });
      for (let i = 0; i < 4; i++) writeFileSync(join(deep, `f${i}`), `This is file f${i}.`);
      return root;
    }
    case 'symlink_model_folder': {
      writeFileSync(join(base, 'external'), KNOWN_MODEL_TEXT);
      const root = join(base, 'symlink_model');
      mkdirSync(root);
      symlinkSync(join(base, 'external'), join(root, 'symlink_file'));
      return root;
    }
    default:
      throw new Error(name);
  }
}

const filesGoldens = readdirSync(GOLDEN).filter((f) => f.endsWith('.json') && !f.includes('shard')).map((f) => f.replace('.json', ''));

describe('OMS statements against the reference goldens', () => {
  it.each(filesGoldens)('%s: same resources, order and subject digest', (name) => {
    const golden = JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), 'utf8'));
    const root = buildGoldenModel(name);
    const files = listModelFolder({ root, ignore: [], allowSymlinks: true }).map((f) => ({ name: f.name, sha256: sha256OfFile(f.abs).sha256 }));
    const built = buildOmsStatement({ subjectName: golden.subject[0].name, files }) as typeof golden;
    expect(built.subject).toEqual(golden.subject);
    const norm = (rs: { name: string; digest: string; algorithm: string }[]) => rs.map((r) => ({ name: r.name, digest: r.digest, algorithm: r.algorithm }));
    expect(norm(built.predicate.resources)).toEqual(norm(golden.predicate.resources));
  });

  it.each(readdirSync(GOLDEN).filter((f) => f.endsWith('.json')))('%s parses and its subject digest is consistent', (file) => {
    const bytes = readFileSync(join(GOLDEN, file));
    const m = parseOmsStatement(bytes);
    expect(m.rootDigest).toBe(JSON.parse(bytes.toString()).subject[0].digest.sha256);
  });

  it('refuses a statement whose subject digest does not match its resources', () => {
    const golden = JSON.parse(readFileSync(join(GOLDEN, 'sample_model_folder.json'), 'utf8'));
    golden.predicate.resources[0].digest = '0'.repeat(64);
    expect(() => parseOmsStatement(Buffer.from(JSON.stringify(golden)))).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID', exitCode: 6 }));
  });

  it('sorts names part by part, as POSIX paths (a/b before a.txt)', () => {
    const names = ['a.txt', 'a/b', 'a-c', 'B', 'a'];
    expect(names.sort((x, y) => compareResourceNames(x, y))).toEqual(['B', 'a', 'a/b', 'a-c', 'a.txt']);
    expect(['w:8:16', 'w:0:8', 'w:16:24', 'v:0:8'].sort((x, y) => compareResourceNames(x, y, true))).toEqual(['v:0:8', 'w:0:8', 'w:8:16', 'w:16:24']);
    expect(rootDigest([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('keys, DSSE and bundles', () => {
  it('derives the reference hint from the test key (public and private halves)', () => {
    expect(loadVerifyingKey(readFileSync(TEST_PUBLIC_KEY), 'pub')).toMatchObject({ curve: 'P-384', hash: 'sha384', hint: TEST_KEY_HINT });
    expect(loadSigningKey(readFileSync(TEST_PRIVATE_KEY), 'priv')).toMatchObject({ curve: 'P-384', hint: TEST_KEY_HINT });
  });

  it('encodes PAE with byte lengths', () => {
    expect(preAuthEncoding('application/vnd.in-toto+json', Buffer.from('héllo')).toString()).toBe('DSSEv1 28 application/vnd.in-toto+json 6 héllo');
  });

  it.each([
    ['prime256v1', 'P-256'],
    ['secp384r1', 'P-384'],
    ['secp521r1', 'P-521'],
  ])('signs and verifies with %s (%s), DER signatures, schema-valid', (namedCurve, curve) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    const sk = loadSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' }), 'k');
    const pk = loadVerifyingKey(publicKey.export({ type: 'spki', format: 'pem' }), 'k.pub');
    expect(sk.curve).toBe(curve);
    const statement = buildOmsStatement({ subjectName: 'm', files: [{ name: 'w.bin', sha256: 'ab'.repeat(32) }], ignorePaths: ['.git', 'model.sig'] });
    const bytes = makeBundle(sk, statementBytes(statement));
    const bundle = parseBundle(bytes);
    expect(bundle.keyHint).toBe(pk.hint);
    expect(checkBundleSignature(bundle, pk, 'k.pub')).toEqual([]);
    // DER: an ASN.1 SEQUENCE, not raw r‖s
    expect(Buffer.from(bundle.envelope.signatures[0].sig, 'base64')[0]).toBe(0x30);
    const schemas = omsSchemaValidator();
    const json = JSON.parse(bytes.toString());
    expect(schemas.validate('bundle', json)).toBeNull();
    expect(schemas.validate('statement', JSON.parse(bundlePayload(bundle).toString()))).toBeNull();
    // another key of the same curve does not verify it
    const other = generateKeyPairSync('ec', { namedCurve }).publicKey;
    expect(envelopeSignedBy(bundle.envelope, loadVerifyingKey(other.export({ type: 'spki', format: 'pem' }), 'o'))).toBe(false);
  });

  it.each([['rsa'], ['ed25519']] as const)('refuses %s keys with exit 2', (type) => {
    const { privateKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
    expect(() => loadSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' }), 'k')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_KEY', exitCode: 2 }));
  });

  it('a public key given to sign is NOT_A_PRIVATE_KEY (exit 2), not a decoder error', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => loadSigningKey(publicKey.export({ type: 'spki', format: 'pem' }), 'keys/release.pub')).toThrow(expect.objectContaining({ code: 'NOT_A_PRIVATE_KEY', exitCode: 2 }));
  });

  it('refuses an EC key on a curve OMS does not allow', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(() => loadVerifyingKey(publicKey.export({ type: 'spki', format: 'pem' }), 'k')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_KEY', exitCode: 2 }));
  });

  it('verifies every real fixture signature with the test key', () => {
    const pub = loadVerifyingKey(readFileSync(TEST_PUBLIC_KEY), 'pub');
    for (const dir of ['v1.1.0-elliptic-key', 'v1.0.1-elliptic-key', 'v1.0.0-elliptic-key', 'v0.3.1-elliptic-key']) {
      const bundle = parseBundle(readFileSync(join(MT, dir, 'model.sig')));
      expect(bundle.keyHint === null).toBe(dir !== 'v1.1.0-elliptic-key');
      checkBundleSignature(bundle, pub, 'pub');
      expect(parseOmsStatement(bundlePayload(bundle)).resources.size).toBeGreaterThan(0);
    }
  });

  it('accepts keyid null, "" or absent and tlogEntries absent', () => {
    const sk = loadSigningKey(readFileSync(TEST_PRIVATE_KEY), 'priv');
    const pk = loadVerifyingKey(readFileSync(TEST_PUBLIC_KEY), 'pub');
    const json = JSON.parse(makeBundle(sk, Buffer.from('{}')).toString());
    for (const keyid of [null, '', undefined]) {
      const b = structuredClone(json);
      if (keyid === undefined) delete b.dsseEnvelope.signatures[0].keyid;
      else b.dsseEnvelope.signatures[0].keyid = keyid;
      delete b.verificationMaterial.tlogEntries;
      expect(checkBundleSignature(parseBundle(Buffer.from(JSON.stringify(b))), pk, 'pub')).toEqual([]);
    }
  });

  it('refuses an edited payload and a wrong media type', () => {
    const pub = loadVerifyingKey(readFileSync(TEST_PUBLIC_KEY), 'pub');
    const b = JSON.parse(readFileSync(join(MT, 'v1.1.0-elliptic-key', 'model.sig'), 'utf8'));
    const payload = Buffer.from(b.dsseEnvelope.payload, 'base64').toString().replace('signme-2', 'signme-3');
    b.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
    expect(() => checkBundleSignature(parseBundle(Buffer.from(JSON.stringify(b))), pub, 'pub')).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID', exitCode: 6 }));
    b.mediaType = 'application/vnd.dev.sigstore.bundle.v0.2+json';
    expect(() => parseBundle(Buffer.from(JSON.stringify(b)))).toThrow(expect.objectContaining({ exitCode: 6 }));
  });

  it('refuses the spec\'s invalid vectors, and non-key bundles', () => {
    const tv = join(OMS_FIXTURES, 'model-signing-spec', 'test-vectors', 'v1.0');
    const schemas = omsSchemaValidator();
    for (const f of readdirSync(join(tv, 'invalid'))) {
      const bytes = readFileSync(join(tv, 'invalid', f));
      let code: string | null = null;
      try {
        parseBundle(bytes);
      } catch (err) {
        code = err instanceof ModelctlError ? err.code : 'other';
      }
      expect(code, f).not.toBeNull();
      expect(code, f).not.toBe('other');
      if (bytes.length) expect(schemas.validate('bundle', JSON.parse(bytes.toString())), f).not.toBeNull();
    }
    const wrong = parseBundle(readFileSync(join(tv, 'invalid-payload', 'wrong-predicate.bundle.json')));
    expect(() => parseOmsStatement(bundlePayload(wrong))).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    for (const f of readdirSync(join(tv, 'valid'))) {
      const bytes = readFileSync(join(tv, 'valid', f));
      expect(schemas.validate('bundle', JSON.parse(bytes.toString())), f).toBeNull();
      expect(() => parseBundle(bytes)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_SIGNATURE' }));
    }
  });
});
