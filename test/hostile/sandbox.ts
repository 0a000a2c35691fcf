/**
 * The sandbox the hostile corpus attacks: one folder holding
 *
 *   src/      a repository with m@v1 (a small single-chunk file, a multi-chunk file, an empty
 *             file), tagged `good`, promoted to staging, pushed to remote/, exported to good.tar
 *   repo/     a fresh repository whose default remote is remote/ (it has fetched nothing)
 *   remote/   the directory remote
 *   outside/  files an attack would like to reach (secret.txt, hl.bin)
 *   good.tar  the legitimate bundle of m@v1
 *
 * Built once (`buildTemplate`) and copied per case, so each case starts from the same state.
 * Helpers craft remote documents, manifests and tar archives byte by byte.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Header, Pax } from 'tar';
import { canonicalJsonBytes } from '../../src/core/canonical-json.js';
import { pseudoRandomBytes, runCli } from '../helpers/temp-repo.js';

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface TemplateInfo {
  dir: string;
  /** The legitimate manifest of m@v1 and its id. */
  manifestId: string;
  manifest: ManifestJson;
  /** Digest of the multi-chunk file (it has files/<digest>.json on the remote). */
  bigDigest: string;
}

export interface ManifestJson {
  format: number;
  model: string;
  files: { path: string; size: number; mode: number; digest: string; chunk?: string }[];
  lineage: Record<string, unknown> & { params: Record<string, unknown>; argv: string[] };
  created: string;
  author: string;
  message: string;
}

function must(cwd: string, args: string[]): void {
  const r = runCli(cwd, args);
  if (r.code !== 0) throw new Error(`sandbox: modelctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}

/** Builds the template sandbox once. */
export function buildTemplate(): TemplateInfo {
  const dir = mkdtempSync(join(tmpdir(), 'modelctl-hostile-template-'));
  const src = join(dir, 'src');
  mkdirSync(join(src, 'model'), { recursive: true });
  must(src, ['init', '--yes']);
  writeFileSync(join(src, 'model', 'small.txt'), 'hello\n');
  writeFileSync(join(src, 'model', 'empty'), '');
  writeFileSync(join(src, 'model', 'big.bin'), pseudoRandomBytes(2_600_000, 7));
  must(src, ['commit', 'm', 'model', '-m', 'one', '--param', 'lr=0.1', '--tag', 'good']);
  must(src, ['promote', 'm@v1', '--to', 'staging', '--yes']);
  must(src, ['remote', 'add', 'origin', join(dir, 'remote'), '--default']);
  must(src, ['push']);
  must(src, ['export', 'm@v1', '-o', join(dir, 'good.tar')]);
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  must(repo, ['init', '--yes']);
  must(repo, ['remote', 'add', 'origin', join(dir, 'remote'), '--default']);
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'secret.txt'), 'the secret\n');
  writeFileSync(join(dir, 'outside', 'secret.json'), '{"token":"s3cr3t"}');
  writeFileSync(join(dir, 'outside', 'hl.bin'), 'not the model\n');
  const numberDoc = JSON.parse(readFileSync(join(dir, 'remote', 'models', 'm', 'numbers', '1.json'), 'utf8')) as { version: string };
  const manifestBytes = readFileSync(join(dir, 'remote', 'versions', `${numberDoc.version}.json`));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ManifestJson;
  const big = manifest.files.find((f) => f.path === 'model/big.bin')!;
  if (big.chunk || !existsSync(join(dir, 'remote', 'files', `${big.digest}.json`))) throw new Error('sandbox: big.bin should be multi-chunk');
  return { dir, manifestId: numberDoc.version, manifest, bigDigest: big.digest };
}

/** One case's copy of the template, with the helpers that craft hostile input in it. */
export class Sandbox {
  readonly root: string;
  readonly src: string;
  readonly repo: string;
  readonly remote: string;
  readonly outside: string;

  constructor(readonly template: TemplateInfo) {
    this.root = mkdtempSync(join(tmpdir(), 'modelctl-hostile-'));
    cpSync(template.dir, this.root, { recursive: true, verbatimSymlinks: true });
    this.src = join(this.root, 'src');
    this.repo = join(this.root, 'repo');
    this.remote = join(this.root, 'remote');
    this.outside = join(this.root, 'outside');
    // The remote was added by absolute path: point the copies at this sandbox's remote.
    for (const f of [join(this.src, 'modelctl.json'), join(this.repo, 'modelctl.json')]) {
      writeFileSync(f, readFileSync(f, 'utf8').split(template.dir).join(this.root));
    }
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  /** A deep copy of the legitimate manifest, to mutate. */
  manifest(): ManifestJson {
    return structuredClone(this.template.manifest);
  }

  /** Writes a file (key relative to the remote root). */
  putRemote(key: string, body: Buffer | string): void {
    const p = join(this.remote, key);
    mkdirSync(dirname(p), { recursive: true });
    rmSync(p, { force: true });
    writeFileSync(p, body);
  }

  remoteJson<T = Record<string, unknown>>(key: string): T {
    return JSON.parse(readFileSync(join(this.remote, key), 'utf8')) as T;
  }

  /**
   * Publishes manifest bytes as version 1 of m (replacing the legitimate one), with tags,
   * stages and events removed so only the manifest is under test. Returns the id used.
   */
  publishManifestBytes(bytes: Buffer, id = sha256(bytes)): string {
    this.putRemote(`versions/${id}.json`, bytes);
    this.putRemote('models/m/numbers/1.json', canonicalJsonBytes({ version: id }));
    for (const kind of ['tags', 'stages', 'events']) rmSync(join(this.remote, 'models', 'm', kind), { recursive: true, force: true });
    return id;
  }

  /** Canonical bytes of a (mutated) manifest, files sorted by path unless told not to. */
  publishManifest(m: ManifestJson, opts: { sort?: boolean } = {}): string {
    if (opts.sort !== false) m.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.publishManifestBytes(canonicalJsonBytes(m));
  }

  /** The entries of the legitimate bundle, in order. */
  bundleEntries(): TarEntry[] {
    return readTar(readFileSync(join(this.root, 'good.tar')));
  }

  /** Writes a tar of `entries` into the sandbox and returns its path. */
  writeBundle(name: string, entries: TarEntry[]): string {
    const p = join(this.root, name);
    const raw = entries.length === 1 && entries[0].name === '\u0000raw';
    writeFileSync(p, raw ? (entries[0].body as Buffer) : writeTar(entries));
    return p;
  }
}

export interface TarEntry {
  name: string;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  body?: Buffer;
  linkpath?: string;
  /** Extended (PAX) header fields written before the entry, e.g. { path: '../x' }. */
  pax?: Record<string, string>;
  /** A raw name (bytes), for names that are not valid UTF-8. */
  rawName?: Buffer;
}

/** Reads a plain tar (what `modelctl export` writes) into entries. */
export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = new Header(buf, off);
    if (!h.path) break;
    const size = h.size ?? 0;
    out.push({ name: h.path, type: 'File', body: Buffer.from(buf.subarray(off + 512, off + 512 + size)) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Writes entries as a tar, with whatever types, names and links they ask for. */
export function writeTar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) blocks.push(new Pax({ ...e.pax, mtime: new Date(0) } as ConstructorParameters<typeof Pax>[0]).encode());
    const body = e.body ?? Buffer.alloc(0);
    const type = e.type ?? 'File';
    const size = type === 'File' ? body.length : 0;
    const block = Buffer.alloc(512);
    new Header({ path: e.rawName ? 'x' : e.name, mode: 0o644, uid: 0, gid: 0, size, mtime: new Date(0), type, linkpath: e.linkpath, uname: '', gname: '' }).encode(block, 0);
    if (e.rawName) {
      // Patch the name field with raw bytes and fix the checksum.
      block.fill(0, 0, 100);
      e.rawName.copy(block, 0, 0, Math.min(100, e.rawName.length));
      block.fill(0x20, 148, 156);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += block[i];
      block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    }
    blocks.push(block);
    if (size) {
      blocks.push(body);
      const pad = (512 - (size % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/**
 * Everything under `root` as path → fingerprint (type, size, content hash, link target),
 * skipping the sandbox repositories' own `.modelctl/` folders (where the store and temp files
 * live). A `.modelctl` anywhere else is listed like any other folder.
 */
export function snapshot(root: string, skip: readonly string[] = ['repo/.modelctl', 'src/.modelctl']): Map<string, string> {
  const out = new Map<string, string>();
  // Buffer names: a name that is not valid UTF-8 must be listed (and opened) as it is.
  const walk = (dir: Buffer) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const rel = relative(root, p.toString('latin1'));
      const shown = relative(root, p.toString('utf8'));
      if (skip.includes(shown)) continue;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(rel, `link→${readlinkSync(p, { encoding: 'buffer' }).toString('latin1')}`);
      else if (st.isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else if (st.isFile()) out.set(rel, `file ${st.size} ${sha256(readFileSync(p))}`);
      else out.set(rel, 'special');
    }
  };
  walk(Buffer.from(root));
  return out;
}

/** What differs between two snapshots (added, removed, changed), outside the allowed prefixes. */
export function snapshotDiff(before: Map<string, string>, after: Map<string, string>, allowed: readonly string[] = []): string[] {
  const ok = (rel: string) => allowed.some((a) => rel === a || rel.startsWith(`${a}/`));
  const diffs: string[] = [];
  for (const [k, v] of after) {
    if (ok(k)) continue;
    if (!before.has(k)) diffs.push(`added ${k}`);
    else if (before.get(k) !== v) diffs.push(`changed ${k}`);
  }
  for (const k of before.keys()) if (!after.has(k) && !ok(k)) diffs.push(`removed ${k}`);
  return diffs;
}
