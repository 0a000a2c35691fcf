import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Header, Parser } from 'tar';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/api/init.js';
import { attest } from '../../src/api/attest.js';
import { exportBundle } from '../../src/api/bundle-export.js';
import { commit } from '../../src/api/commit.js';
import { sign } from '../../src/api/sign.js';
import { canonicalJsonBytes } from '../../src/core/canonical-json.js';
import { fileDigestFromChunks } from '../../src/store/file-digest.js';
import { Barriers } from '../helpers/barriers.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { apiEnv, commitIn, promoteIn } from '../helpers/setup-api.js';
import { BIN, cliEnv, pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** One tar entry as the tests craft them. */
interface TarEntry {
  name: string;
  body?: Buffer;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory' | 'CharacterDevice' | 'FIFO';
  linkpath?: string;
  /** Header size when it must differ from the body (lies). */
  size?: number;
}

/** Packs entries into a tar with tar's own header encoder (nothing touches the disk). */
function packTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body ?? Buffer.alloc(0);
    const type = e.type ?? 'File';
    const size = type === 'File' ? (e.size ?? body.length) : 0;
    const block = Buffer.alloc(512);
    new Header({ path: e.name, mode: 0o644, uid: 0, gid: 0, size, mtime: new Date(0), type, linkpath: e.linkpath, devmaj: 0, devmin: 0 }).encode(block, 0);
    parts.push(block);
    if (type === 'File') {
      parts.push(body);
      const pad = (512 - (body.length % 512)) % 512;
      parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Reads a (possibly gzipped) tar into its entries, in order. */
function readTar(file: string): TarEntry[] {
  let bytes = readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const out: TarEntry[] = [];
  const p = new Parser({
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
      entry.on('end', () => out.push({ name: entry.path, body: Buffer.concat(chunks) }));
    },
  });
  p.end(bytes);
  return out;
}

// Tests here block on child processes; yielding after each lets vitest's worker answer its RPCs.
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Every file under `dir` (relative paths), for "nothing changed" checks. */
function listTree(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTree(p, base));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

/** A repository with fraud@v1 (two files, params, metrics, data, a tag, staging) and fraud@v2. */
async function sourceRepo(): Promise<string> {
  const repo = tempRepo();
  writeFile(repo, 'model/weights.bin', pseudoRandomBytes(2 * 1024 * 1024 + 333, 7));
  writeFile(repo, 'model/config.json', '{"layers": 4}');
  writeFile(repo, 'model/empty.txt', '');
  writeFile(repo, 'data/train.csv', 'a,b\n1,2\n');
  // Arranged through the Node API (setup-api.ts); what each test checks runs through the CLI.
  await commitIn(repo, 'fraud', ['model'], 'first', {
    params: ['lr=0.01'],
    metrics: ['accuracy=0.93'],
    data: ['data/train.csv'],
    tag: '1.0.0',
  });
  await promoteIn(repo, 'fraud@v1', 'staging', { reason: 'ok' });
  writeFile(repo, 'model/config.json', '{"layers": 5}');
  await commitIn(repo, 'fraud', ['model'], 'second');
  return repo;
}

/** `modelctl export` as the user runs it, for the tests that check what export writes. */
function exportTo(repo: string, ref: string, name: string): string {
  const out = join(tempDir(), name);
  const r = runCli(repo, ['export', ref, '-o', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

/** A bundle to import, exported through the Node API (set-up only: the import is under test). */
async function exportIn(repo: string, ref: string, name: string): Promise<string> {
  const out = join(tempDir(), name);
  await exportBundle({ cwd: repo, env: apiEnv(), ref, output: out });
  return out;
}

/** `modelctl sign|attest <ref> --key <key>` through the Node API (set-up only). */
async function signIn(repo: string, verb: 'sign' | 'attest', ref: string, key: string): Promise<void> {
  await (verb === 'sign' ? sign : attest)({ cwd: repo, env: apiEnv(), ref, key, argv: [verb, ref, '--key', key] });
}

/** `modelctl commit <model> <paths…> [--tag t]` with no message, through the Node API (set-up only). */
async function commitNoMessageIn(repo: string, model: string, paths: string[], tag?: string): Promise<void> {
  await commit({ cwd: repo, env: apiEnv(), model, paths, tag, argv: ['commit', model, ...paths, ...(tag ? ['--tag', tag] : [])] });
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
  let good: TarEntry[] = [];
  beforeAll(async () => {
    good = readTar(await exportIn(await sourceRepo(), 'fraud@v1', 'good.tar'));
  });

  /** A fresh copy of the entries of a real bundle of fraud@v1, for a test to tamper with. */
  function goodEntries(): TarEntry[] {
    return good.map((e) => ({ ...e, body: e.body ? Buffer.from(e.body) : undefined }));
  }

  /** Imports crafted bytes into a fresh repository; returns the run and what changed. */
  function importCrafted(bytes: Buffer, name = 'crafted.tar') {
    const outer = tempDir();
    const repo = join(outer, 'repo');
    mkdirSync(repo);
    init({ cwd: repo });
    const bundleDir = join(outer, 'in');
    mkdirSync(bundleDir);
    const file = join(bundleDir, name);
    writeFileSync(file, bytes);
    // Besides the index, the record of accepted settings (a cache the first CLI command in
    // the repository writes, settings-verdicts.json) is not something the import wrote.
    const derived = (p: string) => p.startsWith('index.db') || p === 'settings-verdicts.json';
    const beforeOuter = listTree(outer);
    const beforeMeta = listTree(join(repo, '.modelctl')).filter((p) => !derived(p));
    const r = runCli(repo, ['import', file, '--json']);
    const afterOuter = listTree(outer).filter((p) => !(p.startsWith('repo/.modelctl/') && derived(p.slice('repo/.modelctl/'.length))));
    return {
      r,
      repo,
      newOutside: afterOuter.filter((p) => !beforeOuter.includes(p)),
      newInStore: listTree(join(repo, '.modelctl')).filter((p) => !derived(p) && !beforeMeta.includes(p)),
      noVersion: () => runCli(repo, ['log', 'fraud', '--json']).code === 3,
    };
  }

  function expectRefused(result: ReturnType<typeof importCrafted>, exitCode: number, code?: string) {
    expect(result.r.code, result.r.stderr).toBe(exitCode);
    if (code) expect(result.r.error().code).toBe(code);
    expect(result.newOutside).toEqual([]);
    expect(result.newInStore).toEqual([]);
    expect(result.noVersion()).toBe(true);
  }

  it('a symlink entry → 6', () => {
    const e = goodEntries();
    e.splice(2, 0, { name: 'objects/evil', type: 'SymbolicLink', linkpath: '/etc/passwd' });
    expectRefused(importCrafted(packTar(e)), 6, 'UNSAFE_BUNDLE_ENTRY');
  });

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

  it('a ../ entry → 6 and nothing is written outside', () => {
    const e = goodEntries();
    e.splice(1, 0, { name: '../../evil.txt', body: Buffer.from('pwned') });
    const res = importCrafted(packTar(e));
    expectRefused(res, 6, 'UNSAFE_BUNDLE_ENTRY');
    expect(existsSync(join(dirname(res.repo), 'evil.txt'))).toBe(false);
  });

  it('an absolute path → 6', () => {
    const outer = tempDir();
    const e = goodEntries();
    e.splice(1, 0, { name: join(outer, 'abs-evil.txt'), body: Buffer.from('pwned') });
    expectRefused(importCrafted(packTar(e)), 6, 'UNSAFE_BUNDLE_ENTRY');
    expect(existsSync(join(outer, 'abs-evil.txt'))).toBe(false);
  });

  it('an object whose bytes do not hash to its name → 6, no object adopted', () => {
    const e = goodEntries();
    const obj = e.find((x) => x.name.startsWith('objects/') && (x.body?.length ?? 0) > 1000) as TarEntry;
    const body = Buffer.from(obj.body as Buffer);
    body[500] ^= 0x01;
    obj.body = body;
    expectRefused(importCrafted(packTar(e), 'lie.tar'), 6, 'OBJECT_DIGEST_MISMATCH');
  });

  it('the same lie inside a gzip bundle → 6', () => {
    const e = goodEntries();
    const obj = e.find((x) => x.name.startsWith('objects/') && (x.body?.length ?? 0) > 1000) as TarEntry;
    obj.body = Buffer.from(obj.body as Buffer).fill(0, 0, 10);
    expectRefused(importCrafted(gzipSync(packTar(e)), 'lie.tar.gz'), 6, 'OBJECT_DIGEST_MISMATCH');
  });

  it('a manifest whose bytes do not hash to its name → 6', () => {
    const e = goodEntries();
    const m = e[1];
    m.body = Buffer.from((m.body as Buffer).toString('utf8').replace('"first"', '"FIRST"'));
    expectRefused(importCrafted(packTar(e)), 6, 'MANIFEST_ID_MISMATCH');
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
