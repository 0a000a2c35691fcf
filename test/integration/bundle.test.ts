import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJsonBytes } from '../../src/core/canonical-json.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { type TarEntry, craftedBundleImports, packTar, readTar, sourceRepo, signIn } from '../helpers/bundle.js';

// Tests here block on child processes; yielding after each lets vitest's worker answer its RPCs.
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

/** `modelctl export` as the user runs it, for the tests that check what export writes. */
function exportTo(repo: string, ref: string, name: string): string {
  const out = join(tempDir(), name);
  const r = runCli(repo, ['export', ref, '-o', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

describe('export and import', () => {
  it('round-trips a version (tar and tar.gz): same manifest id, files, lineage, events and tags; verify passes', async () => {
    const src = await sourceRepo();
    for (const name of ['fraud.tar', 'fraud.tar.gz']) {
      const bundle = exportTo(src, 'fraud@v1', name);
      const entries = readTar(bundle);
      expect(entries[0].name).toBe('MODELCTL-BUNDLE.json');
      expect(entries.map((e) => e.name.split('/')[0])).toEqual(['MODELCTL-BUNDLE.json', 'versions', 'events', 'events', 'events', 'objects', 'objects', 'objects']);
      const dst = tempRepo();
      const r = runCli(dst, ['import', bundle, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = r.json();
      expect(out.created).toBe(true);
      expect(out.renumbered).toBe(false);
      expect(out.version.ref).toBe('fraud@v1');
      expect(out.tags.restored).toEqual(['1.0.0']);
      expect(out.stagesAtExport).toEqual(['staging']);
      expect(out.events.imported).toBe(3);
      const a = runCli(src, ['show', 'fraud@v1', '--json']).json();
      const b = runCli(dst, ['show', 'fraud@1.0.0', '--json']).json();
      expect(b.version.id).toBe(a.version.id);
      expect(b.files).toEqual(a.files);
      expect(b.lineage).toEqual(a.lineage);
      expect(b.events.map((e: { id: string }) => e.id)).toEqual(a.events.map((e: { id: string }) => e.id));
      expect(runCli(dst, ['verify', '--json']).code).toBe(0);
      expect(runCli(dst, ['history', '--verify']).code).toBe(0);
      const co = runCli(dst, ['checkout', 'fraud@v1', '--out', 'restored']);
      expect(co.code, co.stderr).toBe(0);
      expect(readFileSync(join(dst, 'restored/model/weights.bin')).equals(pseudoRandomBytes(2 * 1024 * 1024 + 333, 7))).toBe(true);
      expect(readFileSync(join(dst, 'restored/model/empty.txt')).length).toBe(0);
    }
  });

  it('a signed version carries its signature and attestation: the imported copy passes verify --signature', async () => {
    const src = await sourceRepo();
    const keys = writeKeyPair(src, 'release', { type: 'ec', curve: 'prime256v1' });
    for (const verb of ['sign', 'attest'] as const) await signIn(src, verb, 'fraud@v1', keys.priv);
    const bundle = exportTo(src, 'fraud@v1', 'signed.tar');
    const entries = readTar(bundle);
    const kinds = entries.map((e) => e.name.split('/')[0]).filter((k) => k !== 'events');
    expect(kinds).toEqual(['MODELCTL-BUNDLE.json', 'versions', 'signatures', 'attestations', 'objects', 'objects', 'objects']);
    expect(JSON.parse(entries[0].body!.toString('utf8')).signatures).toBe(2);
    // A version without signatures keeps the marker older readers of format 1 accept.
    expect(JSON.parse(readTar(exportTo(src, 'fraud@v2', 'unsigned.tar'))[0].body!.toString('utf8'))).not.toHaveProperty('signatures');

    const dst = tempRepo();
    writeFile(dst, 'keys/release.pub', readFileSync(keys.pub));
    const cfg = JSON.parse(readFileSync(join(dst, 'modelctl.json'), 'utf8'));
    cfg.trust = { keys: { release: 'keys/release.pub' } };
    writeFileSync(join(dst, 'modelctl.json'), JSON.stringify(cfg, null, 2));
    const before = runCli(dst, ['import', bundle]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain('2 signatures');
    const checked = runCli(dst, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(checked.code, checked.stdout).toBe(0);
    expect(checked.json().signedBy).toEqual(['release']);
    expect(runCli(dst, ['import', bundle, '--json']).json().signatures).toEqual({ imported: 0, alreadyPresent: 2 });
  });

  it('export refuses to replace a file without --force (4) and to export missing bytes (6)', async () => {
    const src = await sourceRepo();
    const out = join(tempDir(), 'b.tar');
    writeFileSync(out, 'keep me');
    const r = runCli(src, ['export', 'fraud', '-o', out, '--json']);
    expect(r.code).toBe(4);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(runCli(src, ['export', 'fraud', '-o', out, '--force']).code).toBe(0);
    expect(runCli(src, ['export', 'nope', '-o', join(tempDir(), 'x.tar'), '--json']).code).toBe(3);
  });
});

describe('import refuses damaged and hostile bundles', () => {
  const { goodEntries, importCrafted, expectRefused } = craftedBundleImports();

  it('a symlink entry → 6', () => {
    const e = goodEntries();
    e.splice(2, 0, { name: 'objects/evil', type: 'SymbolicLink', linkpath: '/etc/passwd' });
    expectRefused(importCrafted(packTar(e)), 6, 'UNSAFE_BUNDLE_ENTRY');
  });

  it('a ../ entry → 6 and nothing is written outside', () => {
    const e = goodEntries();
    e.splice(1, 0, { name: '../../evil.txt', body: Buffer.from('pwned') });
    const res = importCrafted(packTar(e));
    expectRefused(res, 6, 'UNSAFE_BUNDLE_ENTRY');
    expect(existsSync(join(dirname(res.repo), 'evil.txt'))).toBe(false);
  });

  it('an object whose bytes do not hash to its name → 6, no object adopted', () => {
    const e = goodEntries();
    const obj = e.find((x) => x.name.startsWith('objects/') && (x.body?.length ?? 0) > 1000) as TarEntry;
    const body = Buffer.from(obj.body as Buffer);
    body[500] ^= 0x01;
    obj.body = body;
    expectRefused(importCrafted(packTar(e), 'lie.tar'), 6, 'OBJECT_DIGEST_MISMATCH');
  });

  it('a manifest whose bytes do not hash to its name → 6', () => {
    const e = goodEntries();
    const m = e[1];
    m.body = Buffer.from((m.body as Buffer).toString('utf8').replace('"first"', '"FIRST"'));
    expectRefused(importCrafted(packTar(e)), 6, 'MANIFEST_ID_MISMATCH');
  });

  it('not a bundle → 2: random bytes, an empty file, a tar without the marker first, a newer format', () => {
    expectRefused(importCrafted(pseudoRandomBytes(20_000, 3)), 2, 'NOT_A_BUNDLE');
    expectRefused(importCrafted(Buffer.alloc(0)), 2, 'NOT_A_BUNDLE');
    expectRefused(importCrafted(packTar([{ name: 'hello.txt', body: Buffer.from('hi') }])), 2, 'NOT_A_BUNDLE');
    const e = goodEntries();
    expectRefused(importCrafted(packTar([e[1], e[0], ...e.slice(2)])), 2, 'NOT_A_BUNDLE');
    const marker = JSON.parse((e[0].body as Buffer).toString('utf8'));
    marker.format = 2;
    e[0].body = canonicalJsonBytes(marker);
    expectRefused(importCrafted(packTar(e)), 2, 'BUNDLE_TOO_NEW');
  });

  it('a missing bundle file → 3', () => {
    const repo = tempRepo();
    expect(runCli(repo, ['import', 'nope.tar', '--json']).code).toBe(3);
  });
});
