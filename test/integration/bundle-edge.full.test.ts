import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { commit } from '../../src/api/commit.js';
import { canonicalJsonBytes } from '../../src/core/canonical-json.js';
import { fileDigestFromChunks } from '../../src/store/file-digest.js';
import { Barriers } from '../helpers/barriers.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { apiEnv } from '../helpers/setup-api.js';
import { BIN, cliEnv, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { type TarEntry, craftedBundleImports, packTar, readTar, sourceRepo, exportIn, signIn } from '../helpers/bundle.js';

// Tests here block on child processes; yielding after each lets vitest's worker answer its RPCs.
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** `modelctl commit <model> <paths…> [--tag t]` with no message, through the Node API (set-up only). */
async function commitNoMessageIn(repo: string, model: string, paths: string[], tag?: string): Promise<void> {
  await commit({ cwd: repo, env: apiEnv(), model, paths, tag, argv: ['commit', model, ...paths, ...(tag ? ['--tag', tag] : [])] });
}

describe('export and import', () => {

  it('a signature filed under another key, or one the marker counts but the bundle lacks → 6, nothing imported', async () => {
    const src = await sourceRepo();
    const keys = writeKeyPair(src, 'release', { type: 'ec', curve: 'prime256v1' });
    await signIn(src, 'sign', 'fraud@v1', keys.priv);
    const entries = readTar(await exportIn(src, 'fraud@v1', 'signed.tar'));
    const at = entries.findIndex((e) => e.name.startsWith('signatures/'));
    const misfiled = entries.map((e, i) => (i === at ? { ...e, name: e.name.replace(/[0-9a-f]{64}\.sig$/, `${'a'.repeat(64)}.sig`) } : e));
    const lacking = entries.filter((_, i) => i !== at);
    for (const [name, tar, code] of [['misfiled.tar', misfiled, 'BUNDLE_MALFORMED'], ['lacking.tar', lacking, 'BUNDLE_MALFORMED']] as const) {
      const file = join(tempDir(), name);
      writeFileSync(file, packTar(tar));
      const dst = tempRepo();
      const r = runCli(dst, ['import', file, '--json']);
      expect(r.code, name).toBe(6);
      expect(r.error().code, name).toBe(code);
      expect(runCli(dst, ['ls', '--json']).json().models, name).toEqual([]);
    }
  });

  it('importing twice creates nothing the second time, and still verifies every object', async () => {
    const src = await sourceRepo();
    const bundle = await exportIn(src, 'fraud@v2', 'v2.tgz');
    const dst = tempRepo();
    expect(runCli(dst, ['import', bundle]).code).toBe(0);
    const again = runCli(dst, ['import', bundle, '--json']);
    expect(again.code).toBe(0);
    expect(again.json().created).toBe(false);
    expect(again.json().objects.alreadyPresent).toBe(3);
  });

  it('Ctrl-C once the bundle is read and checked: exit 130, nothing of it in the store (no manifest a rebuild would revive)', async () => {
    const src = await sourceRepo();
    const bundle = await exportIn(src, 'fraud@v2', 'v2.tgz');
    const dst = tempRepo();
    const barriers = new Barriers();
    barriers.arm('import-verified');
    const child = spawn(process.execPath, [BIN, 'import', bundle], { cwd: dst, env: cliEnv({ CI: '1', ...barriers.env }), stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await barriers.reached('import-verified');
    child.kill('SIGINT');
    barriers.release('import-verified');
    expect(await exited).toBe(130);
    const stored = (dir: string) => (existsSync(join(dst, '.modelctl', dir)) ? readdirSync(join(dst, '.modelctl', dir), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length : 0);
    expect({ manifests: stored('manifests'), objects: stored('objects') }).toEqual({ manifests: 0, objects: 0 });
    expect(runCli(dst, ['verify', '--json']).json().problems).toEqual([]);
    expect(runCli(dst, ['import', bundle]).code).toBe(0);
  });

  it('a version number taken here gets the next one, and says so', async () => {
    const src = await sourceRepo();
    const bundle = await exportIn(src, 'fraud@v1', 'v1.tar');
    const dst = tempRepo();
    writeFile(dst, 'other/w.bin', 'local weights');
    await commitNoMessageIn(dst, 'fraud', ['other']);
    const r = runCli(dst, ['import', bundle, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().renumbered).toBe(true);
    expect(r.json().sourceNumber).toBe(1);
    expect(r.json().version.number).toBe(2);
    expect(r.stderr).toMatch(/v1 of fraud is taken here: imported as v2/);
    const human = runCli(dst, ['import', bundle]);
    expect(human.code).toBe(0);
  });

  it('a tag name taken here by another version is reported, not moved', async () => {
    const src = await sourceRepo();
    const bundle = await exportIn(src, 'fraud@v1', 'v1.tar');
    const dst = tempRepo();
    writeFile(dst, 'other/w.bin', 'local weights');
    await commitNoMessageIn(dst, 'fraud', ['other'], '1.0.0');
    const r = runCli(dst, ['import', bundle, '--json']);
    expect(r.code).toBe(0);
    expect(r.json().tags.restored).toEqual([]);
    expect(r.json().tags.skipped[0].name).toBe('1.0.0');
    expect(runCli(dst, ['show', 'fraud@1.0.0', '--json']).json().version.number).toBe(1);
  });

  it('export to a .zip, .tar.xz, .7z or .zst name is refused (2) and writes nothing, rather than a tar under that name', async () => {
    const src = await sourceRepo();
    const dir = tempDir();
    for (const name of ['fraud.zip', 'fraud.tar.xz', 'fraud.7z', 'fraud.tar.zst']) {
      const r = runCli(src, ['export', 'fraud', '-o', join(dir, name), '--json']);
      expect(r.code, name).toBe(2);
      expect(r.error().code).toBe('BUNDLE_FORMAT_UNSUPPORTED');
      expect(r.error().hint).toMatch(/fraud\.tar\.gz$/);
    }
    expect(readdirSync(dir)).toEqual([]);
    // The formats a bundle is still work.
    for (const name of ['a.tar', 'b.tar.gz', 'c.tgz']) expect(runCli(src, ['export', 'fraud', '-o', join(dir, name)]).code, name).toBe(0);
  });

  it('export of a corrupt object fails with 6 and leaves no partial bundle', async () => {
    const src = await sourceRepo();
    const show = runCli(src, ['show', 'fraud@v1', '--json']).json();
    const weights = show.files.find((f: { path: string }) => f.path === 'model/weights.bin');
    const obj = join(src, '.modelctl/objects', weights.digest.slice(0, 2), weights.digest.slice(2));
    chmodSync(obj, 0o644);
    const bytes = readFileSync(obj);
    bytes[100] ^= 0xff;
    writeFileSync(obj, bytes);
    const dir = tempDir();
    const r = runCli(src, ['export', 'fraud@v1', '-o', join(dir, 'b.tar'), '--json']);
    expect(r.code).toBe(6);
    expect(r.error().code).toBe('OBJECT_CORRUPT');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('import refuses damaged and hostile bundles', () => {
  const { goodEntries, importCrafted, expectRefused } = craftedBundleImports();

  it('a hard link, a device, a FIFO or a folder entry → 6', () => {
    for (const bad of [
      { name: 'objects/' + '0'.repeat(64), type: 'Link' as const, linkpath: 'MODELCTL-BUNDLE.json' },
      { name: 'dev', type: 'CharacterDevice' as const },
      { name: 'fifo', type: 'FIFO' as const },
      { name: 'objects/', type: 'Directory' as const },
    ]) {
      const e = goodEntries();
      e.splice(1, 0, bad);
      expectRefused(importCrafted(packTar(e)), 6, 'UNSAFE_BUNDLE_ENTRY');
    }
  });

  it('an absolute path → 6', () => {
    const outer = tempDir();
    const e = goodEntries();
    e.splice(1, 0, { name: join(outer, 'abs-evil.txt'), body: Buffer.from('pwned') });
    expectRefused(importCrafted(packTar(e)), 6, 'UNSAFE_BUNDLE_ENTRY');
    expect(existsSync(join(outer, 'abs-evil.txt'))).toBe(false);
  });

  it('the same lie inside a gzip bundle → 6', () => {
    const e = goodEntries();
    const obj = e.find((x) => x.name.startsWith('objects/') && (x.body?.length ?? 0) > 1000) as TarEntry;
    obj.body = Buffer.from(obj.body as Buffer).fill(0, 0, 10);
    expectRefused(importCrafted(gzipSync(packTar(e)), 'lie.tar.gz'), 6, 'OBJECT_DIGEST_MISMATCH');
  });

  it('a manifest renamed to match its forged bytes no longer matches the marker → 6', () => {
    const e = goodEntries();
    const forged = Buffer.from((e[1].body as Buffer).toString('utf8').replace('"first"', '"FIRST"'));
    e[1] = { name: `versions/${sha256(forged)}.json`, body: forged };
    expectRefused(importCrafted(packTar(e)), 6, 'BUNDLE_MALFORMED');
  });

  it('an event whose content does not match its id → 6', () => {
    const e = goodEntries();
    const ev = e[2];
    ev.body = Buffer.from((ev.body as Buffer).toString('utf8').replace('"first"', '"edited"'));
    expectRefused(importCrafted(packTar(e)), 6, 'EVENT_ID_MISMATCH');
  });

  it('a duplicate entry, an unknown entry or an object the manifest does not list → 6', () => {
    const dup = goodEntries();
    dup.splice(3, 0, dup[2]);
    expectRefused(importCrafted(packTar(dup)), 6);
    const unknown = goodEntries();
    unknown.push({ name: 'README.txt', body: Buffer.from('hi') });
    expectRefused(importCrafted(packTar(unknown)), 6, 'UNSAFE_BUNDLE_ENTRY');
    const extra = goodEntries();
    const body = Buffer.from('not a file of the version');
    extra.push({ name: `objects/${fileDigestFromChunks([sha256(body)])}`, body });
    expectRefused(importCrafted(packTar(extra)), 6, 'BUNDLE_MALFORMED');
  });

  it('a missing object or a truncated file → 6', () => {
    const missing = goodEntries();
    missing.pop();
    expectRefused(importCrafted(packTar(missing)), 6, 'BUNDLE_INCOMPLETE');
    const whole = packTar(goodEntries());
    const outer = tempDir();
    const cut = join(outer, 'cut.tar');
    writeFileSync(cut, whole);
    truncateSync(cut, Math.floor(whole.length / 2));
    expectRefused(importCrafted(readFileSync(cut)), 6);
  });

  it('a marker that lies about the object list or the event count → 6', () => {
    const e = goodEntries();
    const marker = JSON.parse((e[0].body as Buffer).toString('utf8'));
    marker.events = 1;
    e[0].body = canonicalJsonBytes(marker);
    expectRefused(importCrafted(packTar(e)), 6);
    const f = goodEntries();
    const m2 = JSON.parse((f[0].body as Buffer).toString('utf8'));
    m2.objects[0].size += 1;
    f[0].body = canonicalJsonBytes(m2);
    expectRefused(importCrafted(packTar(f)), 6, 'BUNDLE_MALFORMED');
  });
});
