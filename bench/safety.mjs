// Durability benchmarks (issue 10): `npm run bench -- --only durability`.
//   - the cost of `synchronous = FULL` (every commit fsyncs the WAL) against NORMAL, per
//     transaction of a commit's shape, on the disk under bench/work, measured with
//     better-sqlite3 directly in the same run;
//   - the cost of the ref journal: an append + fsync of a commit's lines;
//   - `modelctl tag` and a small `modelctl commit` end to end, as shipped (FULL + journal).
import { closeSync, fsyncSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { RUNS, WORK, fmtMs, fresh, log, median, modelctl, newRepo, record } from './lib.mjs';

const require = createRequire(import.meta.url);
const TX = 200;

/** Milliseconds per transaction inserting a version-sized row plus an event-sized row. */
function txCost(dir, synchronous) {
  const Database = require('better-sqlite3');
  const db = new Database(join(fresh(dir), 'index.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE v (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE e (id INTEGER PRIMARY KEY, body TEXT)');
  const iv = db.prepare('INSERT INTO v (body) VALUES (?)');
  const ie = db.prepare('INSERT INTO e (body) VALUES (?)');
  const body = 'x'.repeat(2000);
  const tx = db.transaction(() => {
    iv.run(body);
    ie.run(body);
  });
  const t = process.hrtime.bigint();
  for (let i = 0; i < TX; i++) tx.immediate();
  const ms = Number(process.hrtime.bigint() - t) / 1e6 / TX;
  db.close();
  return ms;
}

/** Milliseconds per journal append of a commit's two lines (version + event, ~2 KB) with fsync. */
function journalCost(dir) {
  const fd = openSync(join(fresh(dir), 'journal.jsonl'), 'a');
  const line = Buffer.from(`{"n":1,"r":{"k":"event","payload":"${'x'.repeat(2000)}"}}\n`);
  const t = process.hrtime.bigint();
  for (let i = 0; i < TX; i++) {
    writeSync(fd, line);
    fsyncSync(fd);
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6 / TX;
  closeSync(fd);
  return ms;
}

export function caseDurability() {
  log('\n# durability: synchronous = FULL and the ref journal');
  const s = { normal: [], full: [], journal: [], tag: [], commit: [] };
  const repo = newRepo(join(WORK, 'durability'));
  writeFileSync(join(repo, 'w.bin'), 'v0');
  modelctl(['commit', 'm', 'w.bin', '-q'], { cwd: repo });
  for (let i = 0; i < RUNS; i++) {
    s.normal.push(txCost(join(WORK, 'durability-db'), 'NORMAL'));
    s.full.push(txCost(join(WORK, 'durability-db'), 'FULL'));
    s.journal.push(journalCost(join(WORK, 'durability-journal')));
    s.tag.push(modelctl(['tag', 'm@v1', `t${i}`, '-q'], { cwd: repo, noCpu: true }).ms);
    writeFileSync(join(repo, 'w.bin'), `v${i + 1}`);
    s.commit.push(modelctl(['commit', 'm', 'w.bin', '-q'], { cwd: repo, noCpu: true }).ms);
    log(`  run ${i + 1}/${RUNS}: tx NORMAL ${s.normal[i].toFixed(2)} ms, FULL ${s.full[i].toFixed(2)} ms, journal append ${s.journal[i].toFixed(2)} ms, tag ${fmtMs(s.tag[i])}, commit ${fmtMs(s.commit[i])}`);
  }
  const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  // A write command pays FULL on its own transaction (the journal's runs at NORMAL: its
  // lines are fsynced by the append), plus one append.
  const added = Math.max(0, m.full - m.normal) + m.journal;
  const share = added / m.tag;
  record({
    id: 'durability',
    name: 'durability cost per write command (synchronous = FULL, ref journal)',
    summary: `transaction NORMAL ${m.normal.toFixed(2)} ms, FULL ${m.full.toFixed(2)} ms; journal append+fsync ${m.journal.toFixed(2)} ms; ≈ ${added.toFixed(1)} ms added per command (tag ${fmtMs(m.tag)}, small commit ${fmtMs(m.commit)} end to end)`,
    samplesMs: s,
    mediansMs: m,
    target: { text: '≤ 5% of a small write command (tag)', limit: 0.05, value: Number(share.toFixed(4)), shown: `${added.toFixed(1)} ms = ${(100 * share).toFixed(1)}%` },
  });
}
