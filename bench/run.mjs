#!/usr/bin/env node
// modelctl benchmarks (issue 5): `npm run bench` (full, ~15 min) or `npm run bench -- --quick`
// (smaller data, fewer runs, < 2 min once its data exists). Options: --runs N, --keep
// (leave bench/work/ in place), --no-rgw, --only <ids> with ids from: startup, status,
// commit, rss, index, bytes, speed, rss-transfer.
//
// Generates its data under bench/data/ (gitignored, reused while its recipe is unchanged),
// works under bench/work/, and writes bench/results/latest.md and latest.json (quick.* with
// --quick, partial.* with --only, so the committed latest.* stays a whole full run): the machine,
// the load, every sample, medians, and each target with its measured ratio, met or not.
// Baselines run in the same session on the same data: openssl dgst -sha256, cp,
// restic backup, rclone copy (to the same S3 servers), `node -e 0`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildScaleRepo, timeScaleCommands } from './index-scale.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'modelctl.js');
const DATA = join(ROOT, 'bench', 'data');
const WORK = join(ROOT, 'bench', 'work');
const RESULTS = join(ROOT, 'bench', 'results');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const KEEP = argv.includes('--keep');
const NO_RGW = argv.includes('--no-rgw');
const optValue = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ONLY = optValue('--only')?.split(',');
const RUNS = Number(optValue('--runs') ?? (QUICK ? 3 : 5));

const SIZE = QUICK
  ? { big: 256 * MiB, smallFiles: 10_000, huge: 0, versions: 1_000, transfer: 128 * MiB }
  : { big: 2 * GiB, smallFiles: 10_000, huge: 10 * GiB, versions: 10_000, transfer: 1 * GiB };

// ---------------------------------------------------------------------------- helpers

const log = (s) => process.stderr.write(`${s}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const fmtBytes = (n) => (n >= GiB ? `${(n / GiB).toFixed(2)} GiB` : n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const wanted = (id) => !ONLY || ONLY.includes(id);

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
/** No single command of the bench may run longer than this (a stalled server must not hang the bench). */
const RUN_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Runs a command to completion; returns wall ms (and, with GNU time present, the CPU ms
 * it used: user + system of it and its threads and children). Throws with its stderr on failure.
 */
function run(cmd, args, opts = {}) {
  const [c, a] = GNU_TIME && !opts.noCpu ? [GNU_TIME, ['-f', 'BENCH_CPU %U %S', cmd, ...args]] : [cmd, args];
  const t = process.hrtime.bigint();
  const r = spawnSync(c, a, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, input: opts.input, encoding: 'utf8', maxBuffer: 256 * MiB, timeout: RUN_TIMEOUT_MS });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const cpu = /BENCH_CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  const stderr = (r.stderr ?? '').replace(/BENCH_CPU [\d.]+ [\d.]+\s*$/, '');
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${stderr.slice(-2000)}${(r.stdout || '').slice(-500)}`);
  }
  return { ms, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN, stdout: r.stdout, stderr, status: r.status };
}

/**
 * Environment of every modelctl run: no prompts, no colour, and git discovery stops at
 * bench/work/ so commit's lineage capture does not run git over the modelctl source tree
 * around it (the bench repositories are not git repositories).
 */
const MODELCTL_ENV = { CI: '1', NO_COLOR: '1', GIT_CEILING_DIRECTORIES: WORK };

/** modelctl via the built launcher. */
function modelctl(args, opts = {}) {
  return run(process.execPath, [BIN, ...args], { ...opts, env: { ...MODELCTL_ENV, ...opts.env } });
}

/** Peak RSS (KiB) and wall ms of a command, by GNU time. */
function runWithRss(cmd, args, opts = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', cmd, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const m = /MAXRSS_KB=(\d+)/.exec(r.stderr);
  return { ms, rssKiB: m ? Number(m[1]) : NaN, stdout: r.stdout };
}

function fresh(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A new repository at `dir` (emptied first). */
function newRepo(dir) {
  fresh(dir);
  modelctl(['init', '--yes', '-q'], { cwd: dir });
  return dir;
}

function dirBytes(dir) {
  let total = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

// ------------------------------------------------------------------------------- data

/** Deterministic bytes: AES-256-CTR keystream of a seed (fast: ~2 GB/s). */
function keystream(seed) {
  const key = createHash('sha256').update(`modelctl-bench-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(8 * MiB);
  return (n) => cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
}

function writeRandomFile(path, size, seed, edit) {
  const next = keystream(seed);
  const fd = openSync(path, 'w');
  try {
    for (let off = 0; off < size; ) {
      const n = Math.min(8 * MiB, size - off);
      const block = next(n);
      if (edit) edit(block, off);
      writeSync(fd, block, 0, n, off);
      off += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The 20 regions (offset, length) that make up 10% of a file of `size` bytes, spread out. */
function changedRegions(size) {
  const count = 20;
  const len = Math.floor((size * 0.1) / count);
  const stride = Math.floor(size / count);
  return Array.from({ length: count }, (_, i) => ({ offset: i * stride + Math.floor(stride / 3), length: len }));
}

const SHIFT_AT = 10_000;
const SHIFT_BYTES = 1000;
const DATA_RECIPE = 2;

function prepareData() {
  mkdirSync(DATA, { recursive: true });
  const recipe = { recipe: DATA_RECIPE, big: SIZE.big, smallFiles: SIZE.smallFiles, huge: SIZE.huge, transfer: SIZE.transfer };
  const markerPath = join(DATA, `recipe-${QUICK ? 'quick' : 'full'}.json`);
  const marker = existsSync(markerPath) ? readFileSync(markerPath, 'utf8') : '';
  const p = {
    base: join(DATA, `base-${SIZE.big}.bin`),
    changed: join(DATA, `changed-${SIZE.big}.bin`),
    shifted: join(DATA, `shifted-${SIZE.big}.bin`),
    transfer: join(DATA, `transfer-${SIZE.transfer}.bin`),
    hugeRandom: SIZE.huge ? join(DATA, `huge-random-${SIZE.huge}.bin`) : null,
    small: join(DATA, `small-${SIZE.smallFiles}`),
  };
  if (marker === JSON.stringify(recipe) && Object.values(p).every((f) => !f || existsSync(f))) {
    log('data: reusing bench/data/');
    return p;
  }
  const t = Date.now();
  log(`data: generating ${fmtBytes(SIZE.big)} base, changed and shifted variants, ${SIZE.smallFiles} small files${SIZE.huge ? `, a ${fmtBytes(SIZE.huge)} random file` : ''} …`);
  writeRandomFile(p.base, SIZE.big, 'base');
  // 10% of the bytes replaced in 20 regions: the same keystream with other bytes inside the regions.
  const regions = changedRegions(SIZE.big);
  const other = keystream('changed');
  writeRandomFile(p.changed, SIZE.big, 'base', (block, off) => {
    const repl = other(block.length);
    for (const r of regions) {
      const from = Math.max(r.offset, off);
      const to = Math.min(r.offset + r.length, off + block.length);
      if (from < to) repl.copy(block, from - off, from - off, to - off);
    }
  });
  // 1,000 bytes inserted at offset 10,000.
  {
    const base = openSync(p.base, 'r');
    const out = openSync(p.shifted, 'w');
    const buf = Buffer.allocUnsafe(8 * MiB);
    writeSync(out, readRange(base, 0, SHIFT_AT));
    writeSync(out, keystream('shift')(SHIFT_BYTES));
    for (let off = SHIFT_AT; off < SIZE.big; ) {
      const n = Math.min(buf.length, SIZE.big - off);
      const got = readSyncAt(base, buf, n, off);
      writeSync(out, buf, 0, got);
      off += got;
    }
    closeSync(base);
    closeSync(out);
  }
  writeRandomFile(p.transfer, SIZE.transfer, 'transfer');
  if (p.hugeRandom) writeRandomFile(p.hugeRandom, SIZE.huge, 'huge');
  fresh(p.small);
  const next = keystream('small');
  for (let i = 0; i < SIZE.smallFiles; i++) {
    const d = join(p.small, `d${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.bin`), next(1024 + ((i * 7919) % (15 * 1024))));
  }
  writeFileSync(markerPath, JSON.stringify(recipe));
  log(`data: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return p;
}

function readRange(fd, pos, len) {
  const b = Buffer.allocUnsafe(len);
  readSyncAt(fd, b, len, pos);
  return b;
}
function readSyncAt(fd, buf, len, pos) {
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Reads a file once so the page cache is warm for every tool alike. */
function warm(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 * MiB);
  try {
    for (let pos = 0; ; pos += buf.length) if (readSync(fd, buf, 0, buf.length, pos) === 0) break;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------- results

const results = { cases: [], notes: [] };
/** Set once the run starts: the report is rewritten after every case, so a failure late in a long run keeps what was measured. */
let reportMeta = null;

/**
 * Records a measured case. `target`: { text, limit, value, atLeast? } — met when value ≤
 * limit (value ≥ limit with atLeast); value is the ratio or figure the target is stated in.
 */
function record(c) {
  const entry = { ...c, load: loadavg().map((x) => Number(x.toFixed(2))) };
  if (c.target) entry.target = { ...c.target, met: c.target.atLeast ? c.target.value >= c.target.limit : c.target.value <= c.target.limit };
  results.cases.push(entry);
  if (reportMeta) writeReport({ ...reportMeta, finishedAt: `${new Date().toISOString()} (in progress)`, durationS: (Date.now() - reportMeta.started) / 1000, loadEnd: loadavg().map((x) => Number(x.toFixed(2))) });
  const t = entry.target ? `  → ${entry.target.met ? 'MET' : 'MISSED'} (${entry.target.text}: ${entry.target.shown ?? entry.target.value})` : '';
  log(`  ${c.name}: ${c.summary}${t}`);
}

function samplesOf(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(fn(i));
  return out;
}

// ------------------------------------------------------------------------------ cases

/** Commit of a new big file vs openssl dgst, cp, restic; interleaved so load hits all alike. */
function caseCommitBig(p) {
  log(`\n# commit of a new ${fmtBytes(SIZE.big)} file`);
  warm(p.base);
  const s = { openssl: [], cp: [], commit: [], commit1: [], restic: [] };
  const cpu = { openssl: [], commit: [], commit1: [] };
  for (let i = 0; i < RUNS; i++) {
    const o = run('openssl', ['dgst', '-sha256', p.base]);
    s.openssl.push(o.ms);
    cpu.openssl.push(o.cpuMs);
    const dest = join(WORK, 'cp.bin');
    rmSync(dest, { force: true });
    s.cp.push(run('cp', [p.base, dest]).ms);
    rmSync(dest, { force: true });
    const repo = newRepo(join(WORK, 'commit-big'));
    linkSync(p.base, join(repo, 'model.bin'));
    const c = modelctl(['commit', 'big', 'model.bin', '-m', 'bench', '-q'], { cwd: repo });
    s.commit.push(c.ms);
    cpu.commit.push(c.cpuMs);
    log(`  run ${i + 1}/${RUNS}: openssl ${fmtMs(s.openssl[i])}, cp ${fmtMs(s.cp[i])}, modelctl commit ${fmtMs(s.commit[i])}`);
  }
  // One thread only (MODELCTL_THREADS=1): what the parallel pipeline adds.
  for (let i = 0; i < Math.min(2, RUNS); i++) {
    const repo = newRepo(join(WORK, 'commit-big'));
    linkSync(p.base, join(repo, 'model.bin'));
    const c = modelctl(['commit', 'big', 'model.bin', '-q'], { cwd: repo, env: { MODELCTL_THREADS: '1' } });
    s.commit1.push(c.ms);
    cpu.commit1.push(c.cpuMs);
  }
  if (have('restic')) {
    for (let i = 0; i < (QUICK ? 1 : 3); i++) {
      const repo = fresh(join(WORK, 'restic-repo'));
      const env = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: join(WORK, 'restic-cache') };
      run('restic', ['init', '-q'], { env });
      s.restic.push(run('restic', ['backup', '-q', p.base], { env }).ms);
    }
  } else results.notes.push('restic not installed: its baseline was skipped (apt-get install restic).');
  const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  const ratio = m.commit / m.openssl;
  record({
    id: 'commit-big',
    name: `commit of a new ${fmtBytes(SIZE.big)} file`,
    summary: `${fmtMs(m.commit)} vs openssl dgst ${fmtMs(m.openssl)} (${ratio.toFixed(2)}×), cp ${fmtMs(m.cp)}, one thread ${fmtMs(m.commit1)}${m.restic ? `, restic backup ${fmtMs(m.restic)} (${(m.restic / m.openssl).toFixed(1)}×)` : ''}; CPU used: commit ${fmtMs(median(cpu.commit))}, one thread ${fmtMs(median(cpu.commit1))}, openssl ${fmtMs(median(cpu.openssl))}`,
    samplesMs: s,
    cpuMs: cpu,
    mediansMs: m,
    throughputMBps: SIZE.big / 1e6 / (m.commit / 1000),
    target: { text: '≤ 1.3× openssl dgst -sha256', limit: 1.3, value: Number(ratio.toFixed(3)), shown: `${ratio.toFixed(2)}×` },
  });
}

/** status over 10,000 unchanged files (stat cache), and the commit that stores them. */
function caseStatusSmall(p) {
  log(`\n# status with nothing changed over ${SIZE.smallFiles} files`);
  // Kept between bench runs (like the index): storing 10,000 files takes a while.
  const repo = join(WORK, `status-repo-${SIZE.smallFiles}`);
  let commit = existsSync(join(repo, 'built.json')) ? JSON.parse(readFileSync(join(repo, 'built.json'), 'utf8')) : null;
  if (commit) log('  reusing the repository built earlier');
  else {
    newRepo(repo);
    // Hard links: same bytes, no copy; the repository sees ordinary files.
    for (const d of readdirSync(p.small)) {
      mkdirSync(join(repo, 'files', d), { recursive: true });
      for (const f of readdirSync(join(p.small, d))) linkSync(join(p.small, d, f), join(repo, 'files', d, f));
    }
    const cfg = JSON.parse(readFileSync(join(repo, 'modelctl.json'), 'utf8'));
    cfg.models = { ...(cfg.models ?? {}), files: { paths: ['files'] } };
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify(cfg, null, 2));
    // The files' stat must be older than the racy-clean window (2 s) to be cached.
    spawnSync('sleep', ['2.2']);
    const r = modelctl(['commit', 'files', '-m', 'small files', '--json'], { cwd: repo });
    commit = { ms: r.ms, hashedFiles: JSON.parse(r.stdout).hashedFiles };
    writeFileSync(join(repo, 'built.json'), JSON.stringify(commit));
  }
  const hashed = commit.hashedFiles;
  modelctl(['status', 'files'], { cwd: repo }); // warm the page cache and index
  let rehashed = -1;
  const samples = samplesOf(Math.max(RUNS, 7), () => {
    const r = modelctl(['status', 'files', '--json'], { cwd: repo, noCpu: true });
    rehashed = JSON.parse(r.stdout).models[0].rehashed;
    return r.ms;
  });
  const m = median(samples);
  record({
    id: 'status-small',
    name: `status, nothing changed, ${SIZE.smallFiles} files`,
    summary: `${fmtMs(m)} (files re-read: ${rehashed}); the commit that stored them took ${fmtMs(commit.ms)} (${hashed} files hashed and stored)`,
    samplesMs: samples,
    medianMs: m,
    rehashed,
    commitMs: commit.ms,
    target: { text: '≤ 0.3 s', limit: 300, value: Number(m.toFixed(1)), shown: fmtMs(m) },
  });
}

/** Start-up: --version and log against node -e 0, interleaved. */
function caseStartup() {
  log('\n# start-up');
  const repo = newRepo(join(WORK, 'startup-repo'));
  writeFileSync(join(repo, 'w.bin'), 'weights');
  modelctl(['commit', 'm', 'w.bin', '-m', 'one', '--metric', 'acc=0.9', '-q'], { cwd: repo });
  const n = QUICK ? 10 : 30;
  const s = { node: [], version: [], log: [], ls: [], status: [] };
  // Not wrapped in GNU time: its own fork would add the same milliseconds to both sides.
  const bare = { noCpu: true };
  for (let i = 0; i < n; i++) {
    s.node.push(run(process.execPath, ['-e', '0'], bare).ms);
    s.version.push(modelctl(['--version'], bare).ms);
    s.log.push(modelctl(['log', 'm'], { cwd: repo, ...bare }).ms);
    s.ls.push(modelctl(['ls'], { cwd: repo, ...bare }).ms);
    s.status.push(modelctl(['status'], { cwd: repo, ...bare }).ms);
  }
  const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  record({
    id: 'startup-version',
    name: 'modelctl --version',
    summary: `${fmtMs(m.version)} vs node -e 0 ${fmtMs(m.node)}`,
    samplesMs: { node: s.node, version: s.version },
    mediansMs: { node: m.node, version: m.version },
    target: { text: '≤ 1.3× node -e 0', limit: 1.3, value: Number((m.version / m.node).toFixed(3)), shown: `${(m.version / m.node).toFixed(2)}×` },
  });
  record({
    id: 'startup-log',
    name: 'modelctl log (small repository)',
    summary: `${fmtMs(m.log)} vs node -e 0 ${fmtMs(m.node)}; ls ${fmtMs(m.ls)}, status ${fmtMs(m.status)}`,
    samplesMs: { node: s.node, log: s.log, ls: s.ls, status: s.status },
    mediansMs: m,
    target: { text: '≤ 2× node -e 0', limit: 2, value: Number((m.log / m.node).toFixed(3)), shown: `${(m.log / m.node).toFixed(2)}×` },
  });
}

/** Peak RSS while committing a 10 GiB random file. */
function caseRssCommit(p) {
  if (!p.hugeRandom) return;
  log(`\n# peak RSS committing a ${fmtBytes(SIZE.huge)} file`);
  const repo = newRepo(join(WORK, 'rss-commit'));
  linkSync(p.hugeRandom, join(repo, 'huge.bin'));
  warm(p.hugeRandom);
  const r = runWithRss(process.execPath, [BIN, 'commit', 'huge', 'huge.bin', '-q'], { cwd: repo, env: MODELCTL_ENV });
  rmSync(repo, { recursive: true, force: true });
  const mb = (r.rssKiB * 1024) / 1e6;
  record({
    id: 'rss-commit',
    name: `peak RSS, commit of a ${fmtBytes(SIZE.huge)} random file`,
    summary: `${mb.toFixed(0)} MB in ${fmtMs(r.ms)} (${(SIZE.huge / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s)`,
    rssMB: mb,
    ms: r.ms,
    target: { text: '≤ 200 MB', limit: 200, value: Number(mb.toFixed(1)), shown: `${mb.toFixed(0)} MB` },
  });
}

async function caseIndexScale() {
  log(`\n# index with ${SIZE.versions} versions`);
  const dir = join(WORK, `index-scale-${SIZE.versions}`);
  let built;
  if (existsSync(join(dir, '.modelctl', 'index.db')) && existsSync(join(dir, 'built.json'))) {
    built = JSON.parse(readFileSync(join(dir, 'built.json'), 'utf8'));
    log('  reusing the index built earlier');
  } else {
    built = await buildScaleRepo({ dir, versions: SIZE.versions, log: (s) => (/ (\d*000) \//.test(s) ? log(s) : undefined) });
    writeFileSync(join(dir, 'built.json'), JSON.stringify(built));
  }
  const t = await timeScaleCommands({ root: dir, versions: SIZE.versions, runs: QUICK ? 7 : 15 });
  for (const c of t.cases) {
    record({
      id: `index-${c.name.split(' ')[0]}`,
      name: `${c.name} at ${SIZE.versions} versions / ${built.chunkRows} chunk rows`,
      summary: `CLI ${fmtMs(c.cliMedianMs)} (node -e 0: ${fmtMs(t.nodeStartMedianMs)}), in-process ${fmtMs(c.apiMedianMs)}`,
      cliMedianMs: c.cliMedianMs,
      apiMedianMs: c.apiMedianMs,
      nodeStartMedianMs: t.nodeStartMedianMs,
      target: { text: '≤ 100 ms (whole CLI command)', limit: 100, value: Number(c.cliMedianMs.toFixed(1)), shown: fmtMs(c.cliMedianMs) },
    });
  }
}

// -------------------------------------------------------------------------- transfers

/**
 * A counting HTTP proxy in front of an S3 endpoint (request body bytes of PUT and POST), in
 * a child process: this process blocks in spawnSync while modelctl runs. GET /__counts on
 * the proxy returns the counts.
 */
async function countingProxy(targetUrl) {
  const script = `
    const http = require('node:http');
    const target = new URL(${JSON.stringify(targetUrl)});
    const counts = { PUT: 0, POST: 0, requests: 0 };
    const server = http.createServer((req, res) => {
      if (req.url === '/__counts') { res.end(JSON.stringify(counts)); return; }
      counts.requests++;
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode || 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
      req.on('error', () => up.destroy());
      res.on('error', () => up.destroy());
      req.on('data', (d) => { if (req.method in counts) counts[req.method] += d.length; });
      req.pipe(up);
    });
    server.keepAliveTimeout = 60000;
    process.on('uncaughtException', (e) => process.stderr.write('counting proxy: ' + e.stack + '\\n'));
    server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
    process.stdin.on('end', () => process.exit(0)).resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await firstJsonLine(child).then((m) => m.port);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    counts: () =>
      new Promise((resolve, reject) => {
        request(`${url}/__counts`, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(JSON.parse(body)));
        })
          .on('error', reject)
          .end();
      }),
    close: async () => {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** The first line a child prints on stdout, parsed as JSON. */
function firstJsonLine(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
    });
    child.once('exit', (c) => reject(new Error(`child exited ${c} before it was ready`)));
  });
}

/** s3rver in a child Node (it needs --openssl-legacy-provider for ListObjectsV2 pages). */
async function startS3rver(bucket) {
  const directory = fresh(join(WORK, 's3rver'));
  const s3rverPath = fileURLToPath(import.meta.resolve('s3rver'));
  const script = `
    const S3rver = require(${JSON.stringify(s3rverPath)});
    const server = new S3rver({ port: 0, address: '127.0.0.1', directory: ${JSON.stringify(directory)}, silent: true, configureBuckets: [{ name: ${JSON.stringify(bucket)} }] });
    server.run().then(({ port }) => process.stdout.write(JSON.stringify({ port }) + '\\n'), (e) => { console.error(e); process.exit(1); });
    process.stdin.on('end', () => server.close().finally(() => process.exit(0))).resume();`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await firstJsonLine(child).then((m) => m.port);
  return {
    name: 's3rver',
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    rcloneProvider: 'Other',
    stop: async () => {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function startRgw(bucket) {
  const dir = fresh(join(WORK, 'rgw'));
  // memstore keeps objects in RAM, and RGW frees deleted objects only at its garbage
  // collection hours later: room for every run's two copies (rclone's and ours), plus slack.
  const runs = QUICK ? 2 : 3;
  const r = run(join(ROOT, 'test', 'servers', 'rgw-start.sh'), [dir], { env: { RGW_MEMSTORE_BYTES: String(Math.max(4 * GiB, (2 * runs + 2) * SIZE.transfer)) }, allowFail: true, noCpu: true });
  if (r.status !== 0) {
    results.notes.push(`RGW did not start (rgw-start.sh exit ${r.status}): RGW cases skipped. ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
    return null;
  }
  const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  const server = {
    name: 'Ceph RGW',
    endpoint: env.RGW_ENDPOINT,
    bucket,
    env: { AWS_ACCESS_KEY_ID: env.RGW_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: env.RGW_SECRET_KEY, AWS_REGION: 'us-east-1' },
    rcloneProvider: 'Ceph',
    stop: async () => {
      run(join(ROOT, 'test', 'servers', 'rgw-stop.sh'), [dir], { allowFail: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Create the bucket with rclone (no SDK needed here).
  rclone(server, ['mkdir', `bench:${bucket}`]);
  return server;
}

/** rclone against a server, configured by environment; AWS_CA_BUNDLE unset (rclone 1.60 fails with it). */
function rclone(server, args) {
  const env = {
    ...process.env,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: server.rcloneProvider,
    RCLONE_CONFIG_BENCH_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: server.env.AWS_ACCESS_KEY_ID,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: server.env.AWS_SECRET_ACCESS_KEY,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  delete env.AWS_CA_BUNDLE;
  const t = process.hrtime.bigint();
  const r = spawnSync('rclone', ['--config', '/dev/null', ...args], { env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`rclone ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function pushAvailable() {
  return modelctl(['push', '--help'], { allowFail: true }).status === 0 && modelctl(['pull', '--help'], { allowFail: true }).status === 0;
}

/** Bytes re-sent by push for the 10%-changed and 1,000-byte-shift variants, to a folder remote and through a counting proxy to S3. */
async function caseTransferBytes(p, s3) {
  log('\n# push after a change: bytes sent');
  const changedBytes = changedRegions(SIZE.big).reduce((s, r) => s + r.length, 0);
  const variants = [
    { id: 'changed', file: p.changed, what: `10% changed in 20 regions (${fmtBytes(changedBytes)})`, limitOf: (sent) => sent / changedBytes, limit: 1.15, text: '≤ 1.15× the changed bytes' },
    { id: 'shifted', file: p.shifted, what: `${SHIFT_BYTES} bytes inserted at ${SHIFT_AT}`, limitOf: (sent) => sent / SIZE.big, limit: 0.01, text: '< 1% of the file re-sent' },
  ];
  const remotes = [{ name: 'folder remote', kind: 'dir' }];
  if (s3 && !QUICK) remotes.push({ name: `${s3.name} via counting proxy`, kind: 's3' });
  for (const rem of remotes) {
    for (const v of variants) {
      const repo = newRepo(join(WORK, 'push-bytes'));
      linkSync(p.base, join(repo, 'model.bin'));
      let proxy;
      let env = {};
      let measure;
      if (rem.kind === 'dir') {
        const target = fresh(join(WORK, 'push-bytes-remote'));
        modelctl(['remote', 'add', 'bench', target], { cwd: repo });
        measure = () => dirBytes(join(target, 'chunks')) + dirBytes(join(target, 'files')) + dirBytes(join(target, 'versions'));
      } else {
        proxy = await countingProxy(s3.endpoint);
        const prefix = `bytes-${v.id}-${Date.now()}`;
        modelctl(['remote', 'add', 'bench', `s3://${s3.bucket}/${prefix}`, '--endpoint', proxy.url], { cwd: repo });
        env = s3.env;
        measure = async () => {
          const c = await proxy.counts();
          return c.PUT + c.POST;
        };
      }
      modelctl(['commit', 'm', 'model.bin', '-m', 'base', '-q'], { cwd: repo });
      modelctl(['push', 'm', '--remote', 'bench', '-q'], { cwd: repo, env });
      const before = await measure();
      rmSync(join(repo, 'model.bin'));
      linkSync(v.file, join(repo, 'model.bin'));
      modelctl(['commit', 'm', 'model.bin', '-m', v.id, '-q'], { cwd: repo });
      const pushed = JSON.parse(modelctl(['push', 'm', '--remote', 'bench', '--json'], { cwd: repo, env }).stdout);
      const sent = (await measure()) - before;
      if (proxy) await proxy.close();
      const value = v.limitOf(sent);
      record({
        id: `push-bytes-${v.id}-${rem.kind}`,
        name: `push after ${v.what}, ${rem.name}`,
        summary: `${fmtBytes(sent)} sent (${v.id === 'changed' ? `${value.toFixed(3)}× the changed bytes` : `${(value * 100).toFixed(3)}% of the file`}; push reported ${fmtBytes(pushed.bytesUploaded)} in ${pushed.chunks.uploaded} chunks)`,
        bytesSent: sent,
        pushReportedBytes: pushed.bytesUploaded,
        chunksUploaded: pushed.chunks.uploaded,
        target: { text: v.text, limit: v.limit, value: Number(value.toFixed(5)), shown: v.id === 'changed' ? `${value.toFixed(3)}×` : `${(value * 100).toFixed(3)}%` },
      });
    }
  }
}

/** push and pull of the transfer file against rclone copy, same server, interleaved. */
async function caseTransferSpeed(p, server) {
  log(`\n# push / pull ${fmtBytes(SIZE.transfer)} vs rclone copy, ${server.name}`);
  const s = { push: [], pull: [], rcloneUp: [], rcloneDown: [] };
  const runs = QUICK ? 2 : 3;
  warm(p.transfer);
  for (let i = 0; i < runs; i++) {
    const prefix = `speed-${Date.now()}-${i}`;
    // rclone up and down
    s.rcloneUp.push(rclone(server, ['copyto', p.transfer, `bench:${server.bucket}/${prefix}/rclone.bin`]));
    const down = fresh(join(WORK, 'rclone-down'));
    s.rcloneDown.push(rclone(server, ['copyto', `bench:${server.bucket}/${prefix}/rclone.bin`, join(down, 'rclone.bin')]));
    rmSync(down, { recursive: true, force: true });
    // modelctl: commit (not timed), push, then pull into a folder with no repository
    const repo = newRepo(join(WORK, 'push-speed'));
    linkSync(p.transfer, join(repo, 'model.bin'));
    modelctl(['commit', 'speed', 'model.bin', '-q'], { cwd: repo });
    const url = `s3://${server.bucket}/${prefix}/registry`;
    modelctl(['remote', 'add', 'bench', url, '--endpoint', server.endpoint], { cwd: repo });
    s.push.push(modelctl(['push', 'speed', '--remote', 'bench', '-q'], { cwd: repo, env: server.env }).ms);
    const out = fresh(join(WORK, 'pull-out'));
    s.pull.push(modelctl(['pull', 'speed@latest', '--remote', url, '--out', out, '-q'], { cwd: WORK, env: { ...server.env, AWS_ENDPOINT_URL_S3: server.endpoint } }).ms);
    log(`  run ${i + 1}/${runs}: push ${fmtMs(s.push[i])} (rclone ${fmtMs(s.rcloneUp[i])}), pull ${fmtMs(s.pull[i])} (rclone ${fmtMs(s.rcloneDown[i])})`);
    rmSync(out, { recursive: true, force: true });
    // Free what the server can free before the next run (s3rver: disk; RGW: see startRgw).
    rclone(server, ['purge', `bench:${server.bucket}/${prefix}`]);
  }
  const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  const mbps = (ms) => SIZE.transfer / 1e6 / (ms / 1000);
  for (const dir of ['push', 'pull']) {
    const ours = m[dir];
    const theirs = dir === 'push' ? m.rcloneUp : m.rcloneDown;
    const ratio = mbps(ours) / mbps(theirs);
    record({
      id: `${dir}-speed-${server.name.split(' ').pop().toLowerCase()}`,
      name: `${dir} of ${fmtBytes(SIZE.transfer)}, ${server.name}`,
      summary: `${mbps(ours).toFixed(0)} MB/s (${fmtMs(ours)}) vs rclone copy ${mbps(theirs).toFixed(0)} MB/s (${fmtMs(theirs)})`,
      samplesMs: s,
      mediansMs: m,
      target: { text: '≥ 1.0× rclone copy throughput', limit: 1, atLeast: true, value: Number(ratio.toFixed(3)), shown: `${ratio.toFixed(2)}× rclone` },
    });
  }
}

/** Peak RSS pushing and pulling the 10 GiB random file (folder remote: the disk, not a server, is the limit). */
function caseTransferRss(p) {
  if (!p.hugeRandom) return;
  log(`\n# peak RSS pushing and pulling ${fmtBytes(SIZE.huge)}`);
  const repo = newRepo(join(WORK, 'rss-push'));
  linkSync(p.hugeRandom, join(repo, 'huge.bin'));
  modelctl(['commit', 'huge', 'huge.bin', '-q'], { cwd: repo });
  const target = fresh(join(WORK, 'rss-remote'));
  modelctl(['remote', 'add', 'bench', target], { cwd: repo });
  const up = runWithRss(process.execPath, [BIN, 'push', 'huge', '--remote', 'bench', '-q'], { cwd: repo, env: MODELCTL_ENV });
  rmSync(repo, { recursive: true, force: true });
  const out = fresh(join(WORK, 'rss-pull-out'));
  const down = runWithRss(process.execPath, [BIN, 'pull', 'huge@latest', '--remote', target, '--out', out, '-q'], { cwd: WORK, env: MODELCTL_ENV });
  rmSync(out, { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
  for (const [dir, r] of [['push', up], ['pull', down]]) {
    const mb = (r.rssKiB * 1024) / 1e6;
    record({
      id: `rss-${dir}`,
      name: `peak RSS, ${dir} of a ${fmtBytes(SIZE.huge)} file (folder remote)`,
      summary: `${mb.toFixed(0)} MB in ${fmtMs(r.ms)}`,
      rssMB: mb,
      ms: r.ms,
      target: { text: '≤ 200 MB', limit: 200, value: Number(mb.toFixed(1)), shown: `${mb.toFixed(0)} MB` },
    });
  }
}

// ------------------------------------------------------------------------------ report

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1].split(' ') ?? [];
  const version = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
    } catch {
      return null;
    }
  };
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    mhz: cpus()[0]?.speed ?? null,
    shaNi: flags.includes('sha_ni'),
    memoryGiB: Number((totalmem() / GiB).toFixed(1)),
    freeMemoryGiB: Number((freemem() / GiB).toFixed(1)),
    kernel: release(),
    node: process.version,
    modelctl: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    commit: version('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    tools: {
      openssl: version('openssl', ['version']),
      rclone: version('rclone', ['version']),
      restic: version('restic', ['version']),
    },
  };
}

/**
 * A complete full run writes latest.* (committed); --quick writes quick.* and --only
 * partial.* (both ignored by git), so latest.* is always a whole full run.
 */
const REPORT_NAME = ONLY ? 'partial' : QUICK ? 'quick' : 'latest';

function writeReport(meta) {
  mkdirSync(RESULTS, { recursive: true });
  const json = { ...meta, only: ONLY ?? null, ...results };
  writeFileSync(join(RESULTS, `${REPORT_NAME}.json`), `${JSON.stringify(json, null, 2)}\n`);
  const m = meta.machine;
  const lines = [
    '# modelctl benchmark results',
    '',
    `Run: ${meta.finishedAt} · mode: ${meta.mode}${ONLY ? ` (only ${ONLY.join(', ')})` : ''} · ${meta.durationS.toFixed(0)} s · modelctl ${m.modelctl} (${m.commit ?? 'uncommitted'})`,
    '',
    `Machine: ${m.cores} cores, ${m.cpu}${m.mhz ? ` @ ${m.mhz} MHz` : ''}${m.shaNi ? ' (SHA-NI)' : ''}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}.`,
    `Tools: ${Object.entries(m.tools).map(([k, v]) => `${k}: ${v ?? 'not installed'}`).join(' · ')}.`,
    `Load average at start ${meta.loadStart.join(' / ')}, at end ${meta.loadEnd.join(' / ')} (the machine is shared; each case shows the load it ran under).`,
    '',
    'Reproduce: `npm run bench` (full) or `npm run bench -- --quick`. Data is generated under bench/data/ (AES-CTR keystreams: deterministic).',
    'Times are medians of the runs listed in latest.json; modelctl runs as a CLI process (`node bin/modelctl.js …`), like a user would.',
    '',
    '| target | measured | result | load |',
    '|---|---|---|---|',
  ];
  for (const c of results.cases) {
    if (!c.target) continue;
    lines.push(`| ${c.name}: ${c.target.text} | ${c.target.shown ?? c.target.value} — ${c.summary} | ${c.target.met ? '**met**' : '**missed**'} | ${c.load[0]} |`);
  }
  const untargeted = results.cases.filter((c) => !c.target);
  if (untargeted.length) {
    lines.push('', '| case | measured |', '|---|---|');
    for (const c of untargeted) lines.push(`| ${c.name} | ${c.summary} |`);
  }
  if (results.notes.length) lines.push('', '## Notes', '', ...results.notes.map((n) => `- ${n}`));
  lines.push('');
  writeFileSync(join(RESULTS, `${REPORT_NAME}.md`), lines.join('\n'));
}

// -------------------------------------------------------------------------------- main

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm run bench does)');
  const started = Date.now();
  const loadStart = loadavg().map((x) => Number(x.toFixed(2)));
  const meta = { mode: QUICK ? 'quick' : 'full', runs: RUNS, sizes: SIZE, machine: machine(), loadStart };
  reportMeta = { ...meta, started };
  log(`modelctl bench (${meta.mode}): ${meta.machine.cores} cores, ${meta.machine.cpu}; load ${loadStart.join(' ')}`);
  mkdirSync(WORK, { recursive: true });
  const p = prepareData();

  if (wanted('startup')) caseStartup();
  if (wanted('status')) caseStatusSmall(p);
  if (wanted('commit')) caseCommitBig(p);
  if (wanted('rss')) caseRssCommit(p);
  if (wanted('index')) await caseIndexScale();

  const transfers = ['bytes', 'speed', 'rss-transfer'].some(wanted);
  if (transfers && !pushAvailable()) {
    results.notes.push('push/pull are not available in this build: transfer cases skipped.');
  } else if (transfers) {
    const bucket = 'modelctl-bench';
    const s3 = await startS3rver(bucket);
    try {
      if (wanted('bytes')) await caseTransferBytes(p, s3);
      if (wanted('speed')) {
        if (have('rclone')) await caseTransferSpeed(p, s3);
        else results.notes.push('rclone not installed: throughput baselines skipped (apt-get install rclone).');
      }
    } finally {
      await s3.stop();
    }
    if (wanted('speed') && have('rclone') && !NO_RGW && !QUICK && have('radosgw')) {
      const rgw = await startRgw(bucket);
      if (rgw) {
        try {
          await caseTransferSpeed(p, rgw);
        } finally {
          await rgw.stop();
        }
      }
    } else if (wanted('speed') && !have('radosgw')) {
      results.notes.push('Ceph RGW not installed: RGW throughput cases skipped.');
    }
    if (wanted('rss-transfer')) caseTransferRss(p);
  }

  const finishedAt = new Date().toISOString();
  writeReport({ ...meta, finishedAt, durationS: (Date.now() - started) / 1000, loadEnd: loadavg().map((x) => Number(x.toFixed(2))) });
  if (!KEEP) {
    for (const d of readdirSync(WORK)) if (!/^(index-scale|status-repo)-/.test(d)) rmSync(join(WORK, d), { recursive: true, force: true });
  }
  log(`\nwrote ${relative(process.cwd(), join(RESULTS, `${REPORT_NAME}.md`))} and ${REPORT_NAME}.json (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exit(1);
});
