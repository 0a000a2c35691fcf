import { generateKeyPairSync } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { tempDir } from './temp-repo.js';

/** test/fixtures/oms (see its SOURCES.md). */
export const OMS_FIXTURES = fileURLToPath(new URL('../fixtures/oms/', import.meta.url));
export const MT = join(OMS_FIXTURES, 'model-transparency');
/** The reference tool's published P-384 test key pair. */
export const TEST_PUBLIC_KEY = join(MT, 'keys', 'signing-key-pub.pem');
export const TEST_PRIVATE_KEY = join(MT, 'keys', 'signing-key.pem');
/** publicKey.hint of that key (sha256 of its SPKI PEM). */
export const TEST_KEY_HINT = 'e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e';

/** A copy of a fixture folder in a temp dir (tests tamper with copies only). */
export function copyFixture(name: string): string {
  const dest = join(tempDir('oms-fixture-'), name);
  cpSync(join(MT, name), dest, { recursive: true });
  return dest;
}

/** Writes a fresh EC (or other) key pair as PEM files into `dir`; returns their paths. */
export function writeKeyPair(dir: string, name: string, kind: { type: 'ec'; curve: string } | { type: 'rsa' } | { type: 'ed25519' }): { priv: string; pub: string } {
  const { privateKey, publicKey } =
    kind.type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: kind.curve })
      : kind.type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub`);
  writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

/** A validator for the four OMS JSON Schemas (Draft 2020-12), composed through their $ids. */
export function omsSchemaValidator(): { validate(schema: 'bundle' | 'envelope' | 'statement' | 'predicate', value: unknown): string | null } {
  const Ajv = Ajv2020 as unknown as typeof Ajv2020.default;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const dir = join(OMS_FIXTURES, 'model-signing-spec', 'schemas', 'v1.0');
  const ids: Record<string, string> = {};
  for (const f of readdirSync(dir)) {
    const schema = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { $id: string };
    ajv.addSchema(schema);
    ids[f.replace('.schema.json', '')] = schema.$id;
  }
  return {
    validate(schema, value) {
      const fn = ajv.getSchema(ids[schema]);
      if (!fn) throw new Error(`no schema ${schema}`);
      return fn(value) ? null : ajv.errorsText(fn.errors);
    },
  };
}
