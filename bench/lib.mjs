// Shared helpers of the modelctl benchmarks: options, data, running commands (wall and CPU
// time, peak RSS), the servers and baselines, and the report. Cases live in run.mjs and in
// one file per area (bench/<area>.mjs), each importing what it needs from here.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
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
import {
  availableParallelism,
  cpus,
  freemem,
  loadavg,
  release,
  totalmem,
} from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'modelctl.js');
export const DATA = join(ROOT, 'bench', 'data');
export const WORK = join(ROOT, 'bench', 'work');
export const RESULTS = join(ROOT, 'bench', 'results');
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const argv = process.argv.slice(2);

// A flag the bench does not know (or --help) must not start a run of a quarter of an hour.
const USAGE = `usage: npm run bench [-- options]   (node bench/run.mjs [options])
  --quick         smaller data, fewer runs (< 2 min once its data exists)
  --runs N        samples per case (default 5, 3 with --quick)
  --only a,b      only these cases (e.g. startup,oci,speed; a wrong id lists them all)
  --keep          leave bench/work/ in place
  --no-rgw        skip the Ceph RGW cases
Writes bench/results/latest.* (quick.* with --quick, partial.* with --only).`;
{
  const known = new Set(['--quick', '--keep', '--no-rgw', '--only', '--runs']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (!known.has(a)) {
      console.error(`bench: unknown argument ${JSON.stringify(a)}\n${USAGE}`);
      process.exit(2);
    }
    if (a === '--only' || a === '--runs') {
      if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) {
        console.error(`bench: ${a} needs a value\n${USAGE}`);
        process.exit(2);
      }
      i++;
    }
  }
}
export const QUICK = argv.includes('--quick');
export const KEEP = argv.includes('--keep');
export const NO_RGW = argv.includes('--no-rgw');
export const optValue = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
export const ONLY = optValue('--only')?.split(',');
/** Every id `--only` takes (the steps of bench/run.mjs and the `wanted()` checks); test/unit/bench-args.test.ts keeps the list whole. */
export const CASE_IDS = ['startup', 'commit-small', 'commit-256', 'status', 'commit', 'rss', 'index', 'durability', 'signing', 'tensors', 'serve', 'bytes', 'speed', 'speed-128', 'folder', 'rss-transfer', 'remote-gc', 'oci'];
{
  const unknown = (ONLY ?? []).filter((id) => !CASE_IDS.includes(id));
  if (unknown.length) {
    console.error(`bench: --only ${unknown.join(',')}: no such case (cases: ${CASE_IDS.join(', ')})`);
    process.exit(2);
  }
}
export const RUNS = Number(optValue('--runs') ?? (QUICK ? 3 : 5));

export const SIZE = QUICK
  ? { big: 256 * MiB, smallFiles: 10_000, huge: 0, versions: 1_000, transfer: 128 * MiB }
  : { big: 2 * GiB, smallFiles: 10_000, huge: 10 * GiB, versions: 10_000, transfer: 1 * GiB };

// ---------------------------------------------------------------------------- helpers

export const log = (s) => process.stderr.write(`${s}\n`);
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
export const fmtBytes = (n) => (n >= GiB ? `${(n / GiB).toFixed(2)} GiB` : n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
export const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
export const wanted = (id) => !ONLY || ONLY.includes(id);

export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
/** No single command of the bench may run longer than this (a stalled server must not hang the bench). */
export const RUN_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Runs a command to completion; returns wall ms (and, with GNU time present, the CPU ms
 * it used: user + system of it and its threads and children). Throws with its stderr on failure.
 */
export function run(cmd, args, opts = {}) {
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
export const MODELCTL_ENV = { CI: '1', NO_COLOR: '1', GIT_CEILING_DIRECTORIES: WORK };

/** modelctl via the built launcher. */
export function modelctl(args, opts = {}) {
  return run(process.execPath, [BIN, ...args], { ...opts, env: { ...MODELCTL_ENV, ...opts.env } });
}

/** Peak RSS (KiB), wall ms and CPU ms (user + system) of a command, by GNU time. */
export function runWithRss(cmd, args, opts = {}) {
  const t = process.hrtime.bigint();
  // maxBuffer as run's: a --json document can pass spawnSync's default 1 MiB (gc --remote's
  // dry run of 10,000 versions prints 1.8 MB), which kills the child (status null, ENOBUFS).
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M CPU=%U %S', cmd, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 256 * MiB, timeout: RUN_TIMEOUT_MS });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}):\n${(r.stderr ?? '').slice(-2000)}`);
  const m = /MAXRSS_KB=(\d+) CPU=([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { ms, rssKiB: m ? Number(m[1]) : NaN, cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN, stdout: r.stdout };
}

export function fresh(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A new repository at `dir` (emptied first). */
export function newRepo(dir) {
  fresh(dir);
  modelctl(['init', '--yes', '-q'], { cwd: dir });
  return dir;
}

export function dirBytes(dir) {
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
export function keystream(seed) {
  const key = createHash('sha256').update(`modelctl-bench-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(8 * MiB);
  return (n) => cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
}

export function writeRandomFile(path, size, seed, edit) {
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
export function changedRegions(size) {
  const count = 20;
  const len = Math.floor((size * 0.1) / count);
  const stride = Math.floor(size / count);
  return Array.from({ length: count }, (_, i) => ({ offset: i * stride + Math.floor(stride / 3), length: len }));
}

export const SHIFT_AT = 10_000;
export const SHIFT_BYTES = 1000;
export const DATA_RECIPE = 2;

export function prepareData() {
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

export function readRange(fd, pos, len) {
  const b = Buffer.allocUnsafe(len);
  readSyncAt(fd, b, len, pos);
  return b;
}
export function readSyncAt(fd, buf, len, pos) {
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Reads a file once so the page cache is warm for every tool alike. */
export function warm(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 * MiB);
  try {
    for (let pos = 0; ; pos += buf.length) if (readSync(fd, buf, 0, buf.length, pos) === 0) break;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------- results

export const results = { cases: [], notes: [] };
/** Set once the run starts: the report is rewritten after every case, so a failure late in a long run keeps what was measured. */
let reportMeta = null;
/** Starts the report: after this, every record() rewrites it. */
export function setReportMeta(meta) {
  reportMeta = meta;
}

/**
 * Records a measured case. `target`: { text, limit, value, atLeast? } — met when value ≤
 * limit (value ≥ limit with atLeast); value is the ratio or figure the target is stated in.
 */
export function record(c) {
  const entry = { ...c, load: loadavg().map((x) => Number(x.toFixed(2))) };
  if (c.target) entry.target = { ...c.target, met: c.target.atLeast ? c.target.value >= c.target.limit : c.target.value <= c.target.limit };
  results.cases.push(entry);
  if (reportMeta) writeReport({ ...reportMeta, finishedAt: `${new Date().toISOString()} (in progress)`, durationS: (Date.now() - reportMeta.started) / 1000, loadEnd: loadavg().map((x) => Number(x.toFixed(2))) });
  const t = entry.target ? `  → ${entry.target.met ? 'MET' : 'MISSED'} (${entry.target.text}: ${entry.target.shown ?? entry.target.value})` : '';
  log(`  ${c.name}: ${c.summary}${t}`);
}

export function samplesOf(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(fn(i));
  return out;
}

/**
 * A counting HTTP proxy in front of an S3 endpoint (request body bytes of PUT and POST), in
 * a child process: this process blocks in spawnSync while modelctl runs. GET /__counts on
 * the proxy returns the counts.
 */
export async function countingProxy(targetUrl) {
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
export function firstJsonLine(child) {
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
export async function startS3rver(bucket) {
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

export async function startRgw(bucket) {
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
export function rclone(server, args) {
  const env = rcloneEnv(server);
  const t = process.hrtime.bigint();
  const r = spawnSync('rclone', ['--config', '/dev/null', ...args], { env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`rclone ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** The environment that configures rclone's remote `bench:` for `server` (run with --config /dev/null). */
export function rcloneEnv(server) {
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
  return env;
}

export function pushAvailable() {
  return modelctl(['push', '--help'], { allowFail: true }).status === 0 && modelctl(['pull', '--help'], { allowFail: true }).status === 0;
}

// ------------------------------------------------------------------------------ report

export function machine() {
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
export const REPORT_NAME = ONLY ? 'partial' : QUICK ? 'quick' : 'latest';

export function writeReport(meta) {
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

