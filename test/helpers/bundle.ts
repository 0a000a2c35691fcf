/** Helpers shared by test/integration/bundle.test.ts and its *.full.test.ts sibling. */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Header, Parser } from 'tar';
import { beforeAll, expect } from 'vitest';
import { attest } from '../../src/api/attest.js';
import { exportBundle } from '../../src/api/bundle-export.js';
import { init } from '../../src/api/init.js';
import { sign } from '../../src/api/sign.js';
import { apiEnv, commitIn, promoteIn } from './setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from './temp-repo.js';

/** One tar entry as the tests craft them. */
export interface TarEntry {
  name: string;
  body?: Buffer;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory' | 'CharacterDevice' | 'FIFO';
  linkpath?: string;
  /** Header size when it must differ from the body (lies). */
  size?: number;
}

/** Packs entries into a tar with tar's own header encoder (nothing touches the disk). */
export function packTar(entries: TarEntry[]): Buffer {
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
export function readTar(file: string): TarEntry[] {
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

/** Every file under `dir` (relative paths), for "nothing changed" checks. */
export function listTree(dir: string, base = dir): string[] {
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
export async function sourceRepo(): Promise<string> {
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

/** A bundle to import, exported through the Node API (set-up only: the import is under test). */
export async function exportIn(repo: string, ref: string, name: string): Promise<string> {
  const out = join(tempDir(), name);
  await exportBundle({ cwd: repo, env: apiEnv(), ref, output: out });
  return out;
}

/** `modelctl sign|attest <ref> --key <key>` through the Node API (set-up only). */
export async function signIn(repo: string, verb: 'sign' | 'attest', ref: string, key: string): Promise<void> {
  await (verb === 'sign' ? sign : attest)({ cwd: repo, env: apiEnv(), ref, key, argv: [verb, ref, '--key', key] });
}

/**
 * The harness of the "import refuses damaged and hostile bundles" suites (bundle.test.ts and
 * its *.full.test.ts sibling), called inside their describe: a beforeAll exports a real bundle
 * of fraud@v1, and the returned functions tamper with copies of its entries, import them into
 * a fresh repository, and check that nothing was written.
 */
export function craftedBundleImports() {
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

  return { goodEntries, importCrafted, expectRefused };
}
