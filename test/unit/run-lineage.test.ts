import { describe, expect, it } from 'vitest';
import { manifestId, parseManifest, serializeManifest, type VersionManifest } from '../../src/core/manifest.js';

/** lineage.run is optional (docs/design.md §14): manifests written before it keep parsing and keep their ids. */
const base: VersionManifest = {
  format: 1,
  model: 'fraud',
  files: [{ path: 'model/w.bin', size: 3, mode: 0o644, digest: 'a'.repeat(64) }],
  lineage: {
    code: null,
    data: [],
    params: { lr: 0.1 },
    metrics: {},
    parent: null,
    environment: { modelctl: '0.1.0', node: 'v20.0.0', os: 'linux', hostname: 'h', user: 'u', ci: null },
    argv: ['commit', 'fraud'],
  },
  created: '2026-01-01T00:00:00.000Z',
  author: 'u',
  message: '',
};

describe('run lineage in the manifest', () => {
  it('an old manifest (no run) still parses to the same bytes and id', () => {
    // The bytes of a manifest as format 1 wrote them before lineage.run existed.
    const bytes = Buffer.from(
      '{"author":"u","created":"2026-01-01T00:00:00.000Z","files":[{"digest":"' + 'a'.repeat(64) +
        '","mode":420,"path":"model/w.bin","size":3}],"format":1,"lineage":{"argv":["commit","fraud"],"code":null,"data":[],' +
        '"environment":{"ci":null,"hostname":"h","modelctl":"0.1.0","node":"v20.0.0","os":"linux","user":"u"},"metrics":{},"params":{"lr":0.1},"parent":null},' +
        '"message":"","model":"fraud"}',
    );
    expect(serializeManifest(base).equals(bytes)).toBe(true);
    const id = manifestId(bytes);
    const parsed = parseManifest(bytes, id);
    expect(parsed.lineage.run).toBeUndefined();
    expect(manifestId(serializeManifest(parsed))).toBe(id);
  });

  it('a manifest with a run parses; a hostile run cwd is refused (exit 6)', () => {
    const withRun: VersionManifest = {
      ...base,
      lineage: {
        ...base.lineage,
        run: {
          command: ['node', 'train.js'],
          cwd: '.',
          exitCode: 0,
          startedAt: '2026-01-01T00:00:00.000Z',
          durationMs: 12,
          peakMemory: { bytes: 1024, method: 'proc-sampling', intervalMs: 50, samples: 1 },
          env: { TZ: 'UTC' },
          log: 'logs/fraud.log',
        },
      },
    };
    const bytes = serializeManifest(withRun);
    expect(parseManifest(bytes, manifestId(bytes)).lineage.run?.command).toEqual(['node', 'train.js']);
    const hostile = serializeManifest({ ...withRun, lineage: { ...withRun.lineage, run: { ...withRun.lineage.run!, cwd: '../../etc' } } });
    expect(() => parseManifest(hostile, manifestId(hostile))).toThrow(expect.objectContaining({ exitCode: 6 }));
  });
});
