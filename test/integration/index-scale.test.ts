/**
 * Index scale: the queries behind log, show, ls and status look rows up through indexes
 * (SQLite's EXPLAIN QUERY PLAN shows SEARCH, not SCAN, for every table that grows with
 * versions, files, chunks or events). bench/index-scale.mjs times them at 10,000 versions
 * and a million chunk rows; this test keeps the plans from regressing.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { log } from '../../src/api/log.js';
import { ls } from '../../src/api/ls.js';
import { openRepository } from '../../src/api/repository.js';
import { show } from '../../src/api/show.js';
import { status } from '../../src/api/status.js';
import { buildEvent } from '../../src/core/events.js';
import { FORMAT_VERSION, manifestId, serializeManifest, versionIdentity, type VersionManifest } from '../../src/core/manifest.js';
import { appendEvent } from '../../src/store/events-table.js';
import { writeTransaction } from '../../src/store/index-db.js';
import { moveStage } from '../../src/store/stages-table.js';
import { setTag } from '../../src/store/tags-table.js';
import { ensureModel, insertVersion, recordObject } from '../../src/store/version-records.js';
import { tempRepo } from '../helpers/temp-repo.js';

const require = createRequire(import.meta.url);
const Sqlite = require('better-sqlite3') as typeof BetterSqlite3;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const MODEL = 'scale';
const VERSIONS = 400;

/** Tables that grow with use; a full scan of any of them in a read path is a regression. */
const GROWING = ['versions', 'files', 'chunks', 'objects', 'events', 'metrics', 'params', 'lineage_inputs', 'tags', 'stage_history', 'stat_cache', 'remote_chunks'];

let root: string;
const recorded = new Set<string>();
const originalPrepare = Sqlite.prototype.prepare;

beforeAll(async () => {
  root = tempRepo();
  const repo = await openRepository({ cwd: root });
  try {
    writeTransaction(repo.db, () => {
      const modelId = ensureModel(repo.db, MODEL);
      const files = new Map<string, VersionManifest['files'][number]>();
      for (let n = 1; n <= VERSIONS; n++) {
        const path = `model/part-${n % 3}.bin`;
        const digest = sha(`file-${n}`);
        recordObject(repo.db, digest, 30 * 1000, Array.from({ length: 30 }, (_, i) => ({ digest: sha(`c-${n}-${i}`), offset: i * 1000, length: 1000 })));
        files.set(path, { path, size: 30 * 1000, mode: 0o644, digest });
        const manifest: VersionManifest = {
          format: FORMAT_VERSION,
          model: MODEL,
          files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
          lineage: {
            code: null,
            data: [],
            params: { lr: n / 1000 },
            metrics: { accuracy: n / VERSIONS },
            parent: null,
            environment: { modelctl: '0', node: 'v20', os: 'linux', hostname: 'h', user: 'u', ci: null },
            argv: [],
          },
          created: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
          author: 'a@example.com',
          message: `v${n}`,
        };
        const bytes = serializeManifest(manifest);
        const id = manifestId(bytes);
        repo.store.writeManifest(id, bytes);
        insertVersion(repo.db, { id, manifest, number: n, identity: versionIdentity(manifest) });
        appendEvent(repo.db, buildEvent({ actor: 'a', host: 'h', action: 'commit', model: MODEL, version: id, from: null, to: `v${n}`, reason: null, argv: [], data: {} }));
        if (n % 10 === 0) setTag(repo.db, { modelId, model: MODEL, name: `t${n}`, versionId: id, message: null, actor: 'a', force: false });
        if (n % 50 === 0) {
          const e = buildEvent({ actor: 'a', host: 'h', action: 'promote', model: MODEL, version: id, from: null, to: 'staging', reason: null, argv: [], data: {} });
          appendEvent(repo.db, e);
          moveStage(repo.db, { modelId, stage: 'staging', versionId: id, eventId: e.id, at: e.at });
        }
      }
    });
  } finally {
    repo.close();
  }
  Sqlite.prototype.prepare = function (this: BetterSqlite3.Database, sql: string) {
    recorded.add(sql);
    return originalPrepare.call(this, sql);
  } as typeof originalPrepare;
});

afterAll(() => {
  Sqlite.prototype.prepare = originalPrepare;
});

describe('index scale', () => {
  it('log -n 20, show (number, stage, tag, id prefix), ls and status use indexes only', async () => {
    const latest = await log({ cwd: root, model: MODEL, limit: 20 });
    expect(latest.versions).toHaveLength(20);
    expect(latest.versions[0].number).toBe(VERSIONS);
    const mid = await show({ cwd: root, ref: `${MODEL}@v${VERSIONS / 2}` });
    expect(mid.version.number).toBe(VERSIONS / 2);
    await show({ cwd: root, ref: `${MODEL}@staging` });
    await show({ cwd: root, ref: `${MODEL}@t100` });
    await show({ cwd: root, ref: `${MODEL}@${mid.version.id.slice(0, 10)}` });
    const listing = await ls({ cwd: root });
    expect(listing.models[0]).toMatchObject({ name: MODEL, versions: VERSIONS });
    await status({ cwd: root, model: MODEL });

    const db = new Sqlite(join(root, '.modelctl', 'index.db'), { readonly: true });
    const scans: string[] = [];
    try {
      for (const sql of recorded) {
        if (!/^\s*SELECT/i.test(sql)) continue;
        const aliases = tableAliases(sql);
        const params = Array((sql.match(/\?/g) ?? []).length).fill(null);
        const plan = originalPrepare.call(db, `EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
        for (const { detail } of plan) {
          const m = /^SCAN (\w+)/.exec(detail);
          if (m && GROWING.includes(aliases.get(m[1]) ?? m[1])) scans.push(`${detail}  ←  ${sql.replace(/\s+/g, ' ')}`);
        }
      }
    } finally {
      db.close();
    }
    expect(recorded.size).toBeGreaterThan(5);
    expect(scans).toEqual([]);
  });
});

/** alias → table for `FROM t a` / `JOIN t a` in a query. */
function tableAliases(sql: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    const alias = m[2] && !/^(WHERE|JOIN|ON|ORDER|GROUP|LIMIT|LEFT|INNER|CROSS|USING)$/i.test(m[2]) ? m[2] : m[1];
    out.set(alias, m[1]);
  }
  return out;
}
