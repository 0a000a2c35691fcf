import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { flattenObject, parseKeyValue } from '../../src/core/key-values.js';
import {
  FORMAT_VERSION,
  manifestId,
  parseManifest,
  parseUntrustedJson,
  serializeManifest,
  versionIdentity,
  type VersionManifest,
} from '../../src/core/manifest.js';
import { assertModelName, assertTagName, isModelName } from '../../src/core/names.js';
import { unsafePathReason } from '../../src/core/paths.js';
import { redactUrl } from '../../src/core/redact.js';
import { closest, parseRef } from '../../src/core/refs.js';
import { ModelctlError } from '../../src/errors.js';

function exitCodeOf(fn: () => unknown): number | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof ModelctlError ? err.exitCode : -1;
  }
}

const D = 'a'.repeat(64);
function sampleManifest(over: Partial<VersionManifest> = {}): VersionManifest {
  return {
    format: FORMAT_VERSION,
    model: 'fraud',
    files: [
      { path: 'model/a.bin', size: 10, mode: 0o644, digest: D, chunk: 'b'.repeat(64) },
      { path: 'model/b.bin', size: 0, mode: 0o755, digest: 'c'.repeat(64) },
    ],
    lineage: {
      code: null,
      data: [{ kind: 'uri', source: 's3://data/train' }],
      params: { lr: 0.01, 'opt.name': 'adam' },
      metrics: { accuracy: 0.93 },
      parent: null,
      environment: { modelctl: '0.1.0', node: 'v20', os: 'linux', hostname: 'h', user: 'u', ci: null },
      argv: ['commit', 'fraud'],
    },
    created: '2026-11-28T09:00:00.000Z',
    author: 'u',
    message: 'm',
    ...over,
  };
}

describe('canonical JSON', () => {
  it('sorts keys at every depth, no whitespace, omits undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('is stable for unicode and escapes', () => {
    expect(canonicalJson({ 'é': 'ü\n', A: null })).toBe('{"A":null,"é":"ü\\n"}');
  });
  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ a: Infinity })).toThrow();
    expect(() => canonicalJson({ a: NaN })).toThrow();
  });
});

describe('references', () => {
  it('parses every selector kind', () => {
    expect(parseRef('fraud').selector).toEqual({ kind: 'latest' });
    expect(parseRef('fraud@latest').selector).toEqual({ kind: 'latest' });
    expect(parseRef('team/fraud@v12').selector).toEqual({ kind: 'number', number: 12 });
    expect(parseRef('fraud@production').selector).toEqual({ kind: 'name', name: 'production' });
    expect(parseRef('fraud@1.4.0').selector).toEqual({ kind: 'name', name: '1.4.0' });
    expect(parseRef('fraud@abcdef0').selector).toEqual({ kind: 'name', name: 'abcdef0' });
  });
  it('rejects malformed references with exit 2', () => {
    for (const bad of ['Fraud', 'fraud@', '@v1', 'a/b/c', 'fraud@v0', 'fraud@../x', 'x\0y', '../fraud', 'fraud@-x']) {
      expect(exitCodeOf(() => parseRef(bad)), bad).toBe(2);
    }
  });
  it('suggests the closest names', () => {
    expect(closest('prodution', ['production', 'staging', 'latest'])).toEqual(['production']);
    expect(closest('zzzz', ['production'])).toEqual([]);
  });
});

describe('names', () => {
  it('accepts model names per docs/design.md §2', () => {
    for (const ok of ['fraud', 'fraud-detector', 'team/fraud-detector', 'a.b_c-1', '0model']) expect(isModelName(ok), ok).toBe(true);
    for (const bad of ['', 'Fraud', '-x', 'a/b/c', 'a/', '/a', 'a b', '..', 'a/..', 'x'.repeat(200)]) expect(isModelName(bad), bad).toBe(false);
    expect(exitCodeOf(() => assertModelName('Bad'))).toBe(2);
  });
  it('rejects tag names that look like numbers, stages or latest', () => {
    const stages = ['staging', 'production'];
    expect(exitCodeOf(() => assertTagName('1.4.0', stages))).toBeNull();
    expect(exitCodeOf(() => assertTagName('baseline+exp', stages))).toBeNull();
    for (const bad of ['v3', 'latest', 'production', '-x', 'a b', '.x', '']) expect(exitCodeOf(() => assertTagName(bad, stages)), bad).toBe(2);
  });
});

describe('paths', () => {
  it('flags traversal, absolute, drive letters, backslashes, NUL', () => {
    expect(unsafePathReason('model/a.bin')).toBeNull();
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'c:x', 'a\\b', 'a\0b', '', 'a//b', './a', 'a/.']) {
      expect(unsafePathReason(bad), JSON.stringify(bad)).not.toBeNull();
    }
  });
});

describe('manifests', () => {
  it('id is sha256 of the canonical bytes and parse round-trips', () => {
    const m = sampleManifest();
    const bytes = serializeManifest(m);
    const id = manifestId(bytes);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(parseManifest(bytes, id)).toEqual(m);
  });
  it('rejects bytes that do not hash to the id (exit 6)', () => {
    const bytes = serializeManifest(sampleManifest());
    expect(exitCodeOf(() => parseManifest(bytes, 'f'.repeat(64)))).toBe(6);
  });
  it('rejects non-canonical bytes even when they hash to the id', () => {
    const bytes = Buffer.from(JSON.stringify(sampleManifest(), null, 1));
    expect(exitCodeOf(() => parseManifest(bytes, manifestId(bytes)))).toBe(6);
  });
  it('rejects hostile paths, duplicate paths and file-inside-file', () => {
    const hostile = [
      [{ path: '../evil', size: 1, mode: 0o644, digest: D }],
      [{ path: '/etc/passwd', size: 1, mode: 0o644, digest: D }],
      [{ path: 'a\0b', size: 1, mode: 0o644, digest: D }],
      [{ path: 'C:/x', size: 1, mode: 0o644, digest: D }],
      [{ path: 'a\\..\\b', size: 1, mode: 0o644, digest: D }],
      [
        { path: 'a', size: 1, mode: 0o644, digest: D },
        { path: 'a', size: 1, mode: 0o644, digest: D },
      ],
      [
        { path: 'a', size: 1, mode: 0o644, digest: D },
        { path: 'a/b', size: 1, mode: 0o644, digest: D },
      ],
      [{ path: 'x', size: -1, mode: 0o644, digest: D }],
      [{ path: 'x', size: 1, mode: 0o4755, digest: D }],
      [{ path: 'x', size: 1, mode: 0o644, digest: 'XYZ' }],
    ];
    for (const files of hostile) {
      const bytes = Buffer.from(canonicalJson({ ...sampleManifest(), files }));
      expect(exitCodeOf(() => parseManifest(bytes, manifestId(bytes))), JSON.stringify(files)).toBe(6);
    }
  });
  it('rejects deep nesting and invalid UTF-8', () => {
    expect(exitCodeOf(() => parseUntrustedJson(Buffer.from('['.repeat(10000) + ']'.repeat(10000)), 'x'))).toBe(6);
    expect(exitCodeOf(() => parseUntrustedJson(Buffer.from([0x7b, 0xff, 0x7d]), 'x'))).toBe(6);
  });
  it('allows exactly maxDepth levels of arrays and objects, in any mix, and not one more', () => {
    const nest = (n: number) => {
      let s = '1';
      for (let i = 0; i < n; i++) s = i % 2 ? `{"k":[0,${s}],"z":{}}` : `[{"a":"[[{","b":${s}}]`;
      return Buffer.from(s);
    };
    // Each step above adds two containers; brackets inside strings do not count.
    expect(parseUntrustedJson(nest(32), 'x')).toBeTruthy();
    expect(() => parseUntrustedJson(nest(33), 'x')).toThrow('x is nested too deeply');
    expect(parseUntrustedJson(Buffer.from('[[[1]]]'), 'x', 3)).toEqual([[[1]]]);
    expect(() => parseUntrustedJson(Buffer.from('[[[[1]]]]'), 'x', 3)).toThrow('x is nested too deeply');
    expect(() => parseUntrustedJson(Buffer.from('{"a":{"b":{"c":{}}}}'), 'x', 3)).toThrow('x is nested too deeply');
    expect(parseUntrustedJson(Buffer.from('"[[[[[["'), 'x', 1)).toBe('[[[[[[');
    // A key named __proto__ is an own property of the parsed object: its value is checked too.
    expect(() => parseUntrustedJson(Buffer.from(`{"__proto__":${'['.repeat(70)}${']'.repeat(70)}}`), 'x')).toThrow('x is nested too deeply');
  });
  it('names nesting past the limit even when the document does not parse either, else why it does not parse', () => {
    expect(() => parseUntrustedJson(Buffer.from(`${'['.repeat(100)}oops`), 'x')).toThrow('x is nested too deeply');
    expect(() => parseUntrustedJson(Buffer.from('[[1]'), 'x')).toThrow(/^x is not valid JSON: /);
    expect(() => parseUntrustedJson(Buffer.from('"\\"]]]]]'), 'x', 2)).toThrow(/^x is not valid JSON: /);
  });
  it('identity ignores time, argv, environment and message', () => {
    const a = sampleManifest();
    const b = sampleManifest({ created: '2030-01-01T00:00:00.000Z', message: 'other', author: 'x' });
    b.lineage = { ...b.lineage, argv: ['x'], environment: { ...b.lineage.environment, hostname: 'other' } };
    expect(versionIdentity(a)).toBe(versionIdentity(b));
    const c = sampleManifest();
    c.lineage = { ...c.lineage, params: { lr: 0.02 } };
    expect(versionIdentity(c)).not.toBe(versionIdentity(a));
  });
});

describe('key=value and params files', () => {
  it('keeps value types', () => {
    expect(parseKeyValue('lr=0.001', 'param')).toEqual(['lr', 0.001]);
    expect(parseKeyValue('epochs=10', 'param')).toEqual(['epochs', 10]);
    expect(parseKeyValue('aug=true', 'param')).toEqual(['aug', true]);
    expect(parseKeyValue('name=resnet', 'param')).toEqual(['name', 'resnet']);
    expect(parseKeyValue('ver=1.2.3', 'param')).toEqual(['ver', '1.2.3']);
    expect(parseKeyValue('eq=a=b', 'param')).toEqual(['eq', 'a=b']);
    expect(exitCodeOf(() => parseKeyValue('novalue', 'param'))).toBe(2);
    expect(exitCodeOf(() => parseKeyValue('=1', 'metric'))).toBe(2);
  });
  it('flattens nested mappings to dotted keys', () => {
    expect(flattenObject({ train: { lr: 0.1, layers: [1, 2] }, seed: 1 }, 'param')).toEqual({ 'train.lr': 0.1, 'train.layers': [1, 2], seed: 1 });
  });
});

describe('credential stripping', () => {
  it('removes userinfo and secret query parameters', () => {
    expect(redactUrl('https://user:tok@github.com/org/repo.git')).toBe('https://github.com/org/repo.git');
    expect(redactUrl('s3://bucket/key?X-Amz-Signature=abc&versionId=3')).toBe('s3://bucket/key?X-Amz-Signature=REDACTED&versionId=3');
    expect(redactUrl('git@github.com:org/repo.git')).toBe('git@github.com:org/repo.git');
  });
});
